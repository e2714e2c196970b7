import test from 'ava';
import { fromHex, parseIpv6, parseMac, toHex } from './bytes.js';
import {
  validateDhcpv6,
  Dhcpv6OptionCode,
  checkDhcpv6OptionData,
  copyDhcpv6Option,
  describeDhcpv6Option,
  dhcpv6OptionCodeOf,
  dhcpv6OptionLength,
  dhcpv6OptionName,
  dhcpv6OptionsLength,
  emitDhcpv6Option,
  emitDhcpv6Options,
  emitDhcpv6OptionHeader,
  IaAddressView,
  IaPrefixView,
  IaView,
  emitStatusCodeOption,
  emitU32Option,
  optionRequested,
  parseDhcpv6Option,
  parseDhcpv6Options,
  type Dhcpv6OptionRepr,
} from './dhcpv6.js';
import { Failure, Layer, Status, type Checked } from './status.js';

const a = (text: string): Uint8Array => parseIpv6(text);
const hexOf = (text: string): string => toHex(new TextEncoder().encode(text));
const addrHex = (text: string): string => toHex(a(text));

// [repr, the whole option in hex (worked out by hand from the RFC layouts)]
const table: [Dhcpv6OptionRepr, string][] = [
  [
    {
      kind: 'client-id',
      duid: { kind: 'llt', hardwareType: 1, time: 0x2a2b2c2d, linkLayerAddress: parseMac('00:0c:29:38:f3:68') },
    },
    '0001000e' + '0001' + '0001' + '2a2b2c2d' + '000c2938f368',
  ],
  [
    { kind: 'server-id', duid: { kind: 'en', enterpriseNumber: 9, identifier: fromHex('0a0b0c0d') } },
    '0002000a' + '0002' + '00000009' + '0a0b0c0d',
  ],
  [
    { kind: 'client-id', duid: { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac('02:00:00:00:00:01') } },
    '0001000a' + '0003' + '0001' + '020000000001',
  ],
  [
    { kind: 'server-id', duid: { kind: 'uuid', uuid: fromHex('6ba7b8109dad11d180b400c04fd430c8') } },
    '00020012' + '0004' + '6ba7b8109dad11d180b400c04fd430c8',
  ],
  [{ kind: 'client-id', duid: { kind: 'unknown', type: 0xff, data: fromHex('abcd') } }, '00010004' + '00ff' + 'abcd'],
  [
    {
      kind: 'ia-na',
      iaid: 0x01020304,
      t1: 3600,
      t2: 5400,
      options: [
        {
          kind: 'ia-address',
          address: a('2001:db8::1'),
          preferredLifetime: 300,
          validLifetime: 600,
          options: [{ kind: 'status-code', statusCode: 0, message: 'ok' }],
        },
      ],
    },
    '00030030' +
      '01020304' +
      '00000e10' +
      '00001518' +
      '00050020' +
      addrHex('2001:db8::1') +
      '0000012c' +
      '00000258' +
      '000d0004' +
      '0000' +
      '6f6b',
  ],
  [
    {
      kind: 'ia-ta',
      iaid: 7,
      options: [
        { kind: 'ia-address', address: a('2001:db8::7'), preferredLifetime: 0, validLifetime: 0xffffffff, options: [] },
      ],
    },
    '00040020' + '00000007' + '00050018' + addrHex('2001:db8::7') + '00000000' + 'ffffffff',
  ],
  [
    { kind: 'ia-address', address: a('2001:db8::9'), preferredLifetime: 1, validLifetime: 2, options: [] },
    '00050018' + addrHex('2001:db8::9') + '00000001' + '00000002',
  ],
  [{ kind: 'option-request', codes: [23, 24, 82] }, '00060006' + '0017' + '0018' + '0052'],
  [{ kind: 'preference', preference: 255 }, '00070001' + 'ff'],
  [{ kind: 'elapsed-time', elapsedTime: 0xffff }, '00080002' + 'ffff'],
  [
    {
      kind: 'relay-message',
      message: {
        kind: 'message',
        msgType: 1,
        transactionId: 0xabcdef,
        options: [{ kind: 'elapsed-time', elapsedTime: 0 }],
      },
    },
    '0009000a' + '01abcdef' + '00080002' + '0000',
  ],
  [{ kind: 'status-code', statusCode: 2, message: 'né' }, '000d0005' + '0002' + '6ec3a9'],
  [{ kind: 'rapid-commit' }, '000e0000'],
  [{ kind: 'user-class', items: [fromHex('0102'), new Uint8Array(0)] }, '000f0006' + '0002' + '0102' + '0000'],
  [
    { kind: 'vendor-class', enterpriseNumber: 311, items: [fromHex('6d73')] },
    '00100008' + '00000137' + '0002' + '6d73',
  ],
  [
    {
      kind: 'vendor-options',
      enterpriseNumber: 4491,
      options: [
        { code: 1, data: fromHex('0102') },
        { code: 0x8000, data: new Uint8Array(0) },
      ],
    },
    '0011000e' + '0000118b' + '0001' + '0002' + '0102' + '8000' + '0000',
  ],
  [{ kind: 'interface-id', interfaceId: new TextEncoder().encode('eth0') }, '00120004' + hexOf('eth0')],
  [{ kind: 'reconfigure-message', msgType: 5 }, '00130001' + '05'],
  [{ kind: 'reconfigure-accept' }, '00140000'],
  [
    { kind: 'sip-server-domains', names: ['sip.example.'] },
    '0015000d' + '03' + hexOf('sip') + '07' + hexOf('example') + '00',
  ],
  [{ kind: 'sip-server-addresses', addresses: [a('2001:db8::5060')] }, '00160010' + addrHex('2001:db8::5060')],
  [
    { kind: 'dns-servers', addresses: [a('2001:db8::53'), a('2001:db8::54')] },
    '00170020' + addrHex('2001:db8::53') + addrHex('2001:db8::54'),
  ],
  [
    { kind: 'domain-search-list', names: ['example.com.', '.'] },
    '0018000e' + '07' + hexOf('example') + '03' + hexOf('com') + '00' + '00',
  ],
  [
    {
      kind: 'ia-pd',
      iaid: 1,
      t1: 0,
      t2: 0,
      options: [
        {
          kind: 'ia-prefix',
          preferredLifetime: 0xffffffff,
          validLifetime: 0xffffffff,
          prefixLength: 48,
          prefix: a('2001:db8:100::'),
          options: [],
        },
      ],
    },
    '00190029' +
      '00000001' +
      '00000000' +
      '00000000' +
      '001a0019' +
      'ffffffff' +
      'ffffffff' +
      '30' +
      addrHex('2001:db8:100::'),
  ],
  [
    {
      kind: 'ia-prefix',
      preferredLifetime: 10,
      validLifetime: 20,
      prefixLength: 128,
      prefix: a('2001:db8::1'),
      options: [{ kind: 'status-code', statusCode: 6, message: '' }],
    },
    '001a001f' + '0000000a' + '00000014' + '80' + addrHex('2001:db8::1') + '000d0002' + '0006',
  ],
  [{ kind: 'sntp-servers', addresses: [a('2001:db8::123')] }, '001f0010' + addrHex('2001:db8::123')],
  [{ kind: 'information-refresh-time', seconds: 86400 }, '00200004' + '00015180'],
  [
    { kind: 'client-fqdn', flags: 0x01, name: 'host.example.', partial: false },
    '0027000f' + '01' + '04' + hexOf('host') + '07' + hexOf('example') + '00',
  ],
  [{ kind: 'client-fqdn', flags: 0x04, name: 'host', partial: true }, '00270006' + '04' + '04' + hexOf('host')],
  [{ kind: 'client-fqdn', flags: 0x00, name: '', partial: true }, '00270001' + '00'],
  [
    {
      kind: 'ntp-server',
      suboptions: [
        { kind: 'server-address', address: a('2001:db8::123') },
        { kind: 'multicast-address', address: a('ff05::101') },
        { kind: 'server-fqdn', name: 'ntp.example.' },
        { kind: 'unknown', code: 9, data: fromHex('aa') },
      ],
    },
    '0038003e' +
      '00010010' +
      addrHex('2001:db8::123') +
      '00020010' +
      addrHex('ff05::101') +
      '0003000d' +
      '03' +
      hexOf('ntp') +
      '07' +
      hexOf('example') +
      '00' +
      '00090001' +
      'aa',
  ],
  [
    { kind: 'client-link-layer-address', hardwareType: 1, address: parseMac('02:00:00:00:00:01') },
    '004f0008' + '0001' + '020000000001',
  ],
  [{ kind: 'sol-max-rt', seconds: 3600 }, '00520004' + '00000e10'],
  [{ kind: 'inf-max-rt', seconds: 86400 }, '00530004' + '00015180'],
  [{ kind: 'unknown', code: 0x1234, data: fromHex('00ff') }, '12340002' + '00ff'],
  [{ kind: 'unknown', code: 10, data: fromHex('01') }, '000a0001' + '01'],
];

test('the table covers every option code the module names, and an unknown code', (t) => {
  const codes = new Set(table.map(([r]) => dhcpv6OptionCodeOf(r)));
  for (const code of Object.values(Dhcpv6OptionCode))
    t.true(codes.has(code), `option ${code} (${dhcpv6OptionName(code)})`);
  t.true(table.some(([r]) => r.kind === 'unknown'));
  const duids = new Set(
    table.flatMap(([r]) => (r.kind === 'client-id' || r.kind === 'server-id' ? [r.duid.kind] : [])),
  );
  t.deepEqual([...duids].sort(), ['en', 'll', 'llt', 'unknown', 'uuid']);
});

for (const [repr, hex] of table) {
  const code = dhcpv6OptionCodeOf(repr);
  const label =
    repr.kind === 'client-id' || repr.kind === 'server-id'
      ? `${repr.kind} (DUID-${repr.duid.kind})`
      : `${repr.kind} (${code}) ${hex.slice(4, 8)}`;
  test(`option ${label}: emit gives the RFC bytes; emit at offset 11, check, parse, emit again`, (t) => {
    const n = dhcpv6OptionLength(repr);
    t.is(n * 2, hex.length);
    const exact = new Uint8Array(n);
    t.is(emitDhcpv6Option(repr, exact, 0), n);
    t.is(toHex(exact), hex);
    const b = new Uint8Array(11 + n + 9).fill(0x5a);
    t.is(emitDhcpv6Option(repr, b, 11), n);
    t.is(toHex(b, 11, n), hex);
    t.true(
      b.subarray(0, 11).every((x) => x === 0x5a) && b.subarray(11 + n).every((x) => x === 0x5a),
      'nothing written outside the option',
    );
    const d = 11 + 4;
    const sink: Checked = { errorOffset: 0, errorReason: '' };
    t.is(checkDhcpv6OptionData(b, code, d, n - 4, sink), Status.Ok, sink.errorReason);
    const back = parseDhcpv6Option(b, code, d, n - 4);
    t.deepEqual(back, repr);
    const again = new Uint8Array(n);
    emitDhcpv6Option(back, again, 0);
    t.is(toHex(again), hex);
    const json = describeDhcpv6Option(b, code, d, n - 4);
    t.like(json, { code, name: dhcpv6OptionName(code) });
    t.false('error' in json, String(json['error']));
  });
}

test('all options in one Reply message: validate at offset 3, parse in order, emit back', (t) => {
  // Relay Message belongs in relay messages only, and IA Address / IA Prefix inside IAs; the
  // codec does not hold the top level to that, so one message carries them all.
  const list = table.map(([r]) => r);
  const n = 4 + dhcpv6OptionsLength(list);
  const b = new Uint8Array(3 + n + 5).fill(0xc3);
  b.set([7, 1, 2, 3], 3);
  t.is(emitDhcpv6Options(list, b, 7), n - 4);
  const f = new Failure();
  t.is(validateDhcpv6(b, 3, n, f), Status.Ok, f.reason);
  t.deepEqual(parseDhcpv6Options(b, 7, 3 + n), list);
});

// [code, option data hex, failure offset from the data start (-2: the length field), reason]
const bad: [number, string, number, RegExp][] = [
  [Dhcpv6OptionCode.ClientId, '00010001000000', 0, /DUID-LLT shorter than 8/],
  [Dhcpv6OptionCode.ServerId, '00020000', 0, /DUID-EN shorter than 6/],
  [Dhcpv6OptionCode.ClientId, '000300', 0, /DUID-LL shorter than 4/],
  [Dhcpv6OptionCode.ClientId, '0004' + '00'.repeat(15), 0, /DUID-UUID is not 18/],
  [Dhcpv6OptionCode.ClientId, '0004' + '00'.repeat(17), 0, /DUID-UUID is not 18/],
  [Dhcpv6OptionCode.ClientId, '00', 0, /shorter than its 2-octet type/],
  [Dhcpv6OptionCode.ClientId, '0002' + '00'.repeat(129), 0, /longer than 128/],
  [Dhcpv6OptionCode.IaNa, '00'.repeat(11), -2, /IA_NA option shorter than 12/],
  [Dhcpv6OptionCode.IaPd, '00'.repeat(11), -2, /IA_PD option shorter than 12/],
  [Dhcpv6OptionCode.IaTa, '00'.repeat(3), -2, /IA_TA option shorter than 4/],
  [Dhcpv6OptionCode.IaAddress, '00'.repeat(23), -2, /shorter than 24/],
  [Dhcpv6OptionCode.IaPrefix, '00'.repeat(24), -2, /shorter than 25/],
  [Dhcpv6OptionCode.IaPrefix, '00'.repeat(8) + 'ff' + '00'.repeat(16), 8, /above 128/],
  [Dhcpv6OptionCode.OptionRequest, '00', -2, /odd length/],
  [Dhcpv6OptionCode.Preference, '0000', -2, /Preference/],
  [Dhcpv6OptionCode.ElapsedTime, '00', -2, /Elapsed Time/],
  [Dhcpv6OptionCode.ElapsedTime, '000000', -2, /Elapsed Time/],
  [Dhcpv6OptionCode.StatusCode, '00', -2, /Status Code/],
  [Dhcpv6OptionCode.RapidCommit, '00', -2, /Rapid Commit/],
  [Dhcpv6OptionCode.ReconfigureAccept, '00', -2, /Reconfigure Accept/],
  [Dhcpv6OptionCode.ReconfigureMessage, '', -2, /Reconfigure Message/],
  [Dhcpv6OptionCode.ReconfigureMessage, '0505', -2, /Reconfigure Message/],
  [Dhcpv6OptionCode.UserClass, '00', 0, /cut short/],
  [Dhcpv6OptionCode.UserClass, '0002' + '01', 0, /item runs past its option/],
  [Dhcpv6OptionCode.UserClass, '0001' + '01' + '0003' + '0102', 3, /item runs past its option/],
  [Dhcpv6OptionCode.VendorClass, '000001', -2, /Vendor Class option shorter than 4/],
  [Dhcpv6OptionCode.VendorClass, '00000137' + '0005' + '01', 4, /item runs past/],
  [Dhcpv6OptionCode.VendorOptions, '000001', -2, /Vendor-specific Information option shorter than 4/],
  [Dhcpv6OptionCode.VendorOptions, '0000118b' + '000100', 4, /suboption header runs past/],
  [Dhcpv6OptionCode.VendorOptions, '0000118b' + '00010003' + '0102', 4, /suboption runs past/],
  [Dhcpv6OptionCode.SipServerAddresses, '00'.repeat(20), -2, /multiple of 16/],
  [Dhcpv6OptionCode.DnsServers, '00'.repeat(15), -2, /multiple of 16/],
  [Dhcpv6OptionCode.DnsServers, '00'.repeat(17), -2, /multiple of 16/],
  [Dhcpv6OptionCode.SntpServers, '00'.repeat(8), -2, /multiple of 16/],
  [Dhcpv6OptionCode.SipServerDomains, '40' + '61'.repeat(64) + '00', 0, /longer than 63/],
  [Dhcpv6OptionCode.DomainSearchList, '03' + hexOf('com') + '00' + '05' + hexOf('ab'), 5, /label runs past/],
  [Dhcpv6OptionCode.DomainSearchList, ('3f' + '61'.repeat(63)).repeat(4) + '00', 192, /longer than 255/],
  [Dhcpv6OptionCode.InformationRefreshTime, '000000', -2, /Information Refresh Time/],
  [Dhcpv6OptionCode.SolMaxRt, '0000000000', -2, /SOL_MAX_RT/],
  [Dhcpv6OptionCode.InfMaxRt, '00', -2, /INF_MAX_RT/],
  [Dhcpv6OptionCode.ClientFqdn, '', -2, /without its flags/],
  [Dhcpv6OptionCode.ClientFqdn, '01' + '04' + hexOf('host') + '00' + '00', 7, /bytes after the Client FQDN/],
  [Dhcpv6OptionCode.ClientFqdn, '01' + '08' + hexOf('host'), 1, /label runs past/],
  [Dhcpv6OptionCode.ClientFqdn, '01' + 'c00c', 1, /compression/],
  [Dhcpv6OptionCode.NtpServer, '', -2, /without a suboption/],
  [Dhcpv6OptionCode.NtpServer, '0001000f' + '00'.repeat(15), 2, /address suboption length is not 16/],
  [Dhcpv6OptionCode.NtpServer, '00020011' + '00'.repeat(17), 2, /address suboption length is not 16/],
  [Dhcpv6OptionCode.NtpServer, '00030000', 2, /empty NTP server FQDN/],
  [Dhcpv6OptionCode.NtpServer, '00030006' + '03' + hexOf('ntp') + '00' + '00', 9, /bytes after the NTP server FQDN/],
  [Dhcpv6OptionCode.NtpServer, '00030004' + '03' + hexOf('ntp'), 8, /runs past its option/],
  [Dhcpv6OptionCode.NtpServer, '000100', 0, /suboption header runs past/],
  [Dhcpv6OptionCode.ClientLinkLayerAddress, '00', -2, /Client Link-Layer Address/],
];

for (const [code, hex, at, reason] of bad) {
  test(`option ${dhcpv6OptionName(code)} (${code}) with ${hex.length / 2} octets ${hex.length > 24 ? hex.slice(0, 24) + '…' : hex || '(none)'} is Malformed at ${at}`, (t) => {
    const data = fromHex(hex);
    // As a top-level option of a message at offset 5, followed by an Elapsed Time option.
    const body = new Uint8Array(4 + 4 + data.length + 6);
    body.set([11, 0, 0, 1]);
    body.set([code >>> 8, code & 0xff, data.length >>> 8, data.length & 0xff], 4);
    body.set(data, 8);
    body.set([0, 8, 0, 2, 0, 0], 8 + data.length);
    const b = new Uint8Array(5 + body.length + 3).fill(0x77);
    b.set(body, 5);
    const sink: Checked = { errorOffset: 0, errorReason: '' };
    const d = 5 + 8;
    t.is(checkDhcpv6OptionData(b, code, d, data.length, sink), Status.Malformed);
    t.is(sink.errorOffset, d + at);
    t.regex(sink.errorReason, reason);
    const f = new Failure();
    t.is(validateDhcpv6(b, 5, body.length, f), Status.Malformed);
    t.like(f, { layer: Layer.Dhcpv6Option, offset: d + at });
    const json = describeDhcpv6Option(b, code, d, data.length);
    t.like(json, { code, data: hex, error: sink.errorReason });
  });
}

test('hot-path writers give the same bytes as the Reprs', (t) => {
  const address = a('2001:db8:1::100');
  const prefix = a('2001:db8:100::');
  const fromReprs = new Uint8Array(200);
  const ia: Dhcpv6OptionRepr = {
    kind: 'ia-na',
    iaid: 1,
    t1: 5,
    t2: 8,
    options: [
      {
        kind: 'ia-address',
        address,
        preferredLifetime: 20,
        validLifetime: 30,
        options: [{ kind: 'status-code', statusCode: 0, message: 'ok' }],
      },
    ],
  };
  const pd: Dhcpv6OptionRepr = {
    kind: 'ia-pd',
    iaid: 2,
    t1: 5,
    t2: 8,
    options: [{ kind: 'ia-prefix', preferredLifetime: 20, validLifetime: 30, prefixLength: 56, prefix, options: [] }],
  };
  const list: Dhcpv6OptionRepr[] = [
    ia,
    pd,
    { kind: 'information-refresh-time', seconds: 900 },
    { kind: 'status-code', statusCode: 2, message: 'NoAddrsAvail' },
  ];
  const n = emitDhcpv6Options(list, fromReprs, 0);
  const hot = new Uint8Array(200);
  let p = 0;
  // An IA_NA: header, then its fields through the views; an IA Address with a Status Code inside.
  p += emitDhcpv6OptionHeader(hot, p, Dhcpv6OptionCode.IaNa, 12 + 28 + 8);
  const naView = new IaView().wrap(hot, p, 12);
  naView.iaid = 1;
  naView.t1 = 5;
  naView.t2 = 8;
  p += 12;
  p += emitDhcpv6OptionHeader(hot, p, Dhcpv6OptionCode.IaAddress, 24 + 8);
  const addressView = new IaAddressView().wrap(hot, p, 24);
  addressView.setAddress(address, 0);
  addressView.preferredLifetime = 20;
  addressView.validLifetime = 30;
  p += 24;
  p += emitStatusCodeOption(hot, p, 0, 'ok');
  // An IA_PD with one IA Prefix.
  p += emitDhcpv6OptionHeader(hot, p, Dhcpv6OptionCode.IaPd, 12 + 29);
  const pdView = new IaView().wrap(hot, p, 12);
  pdView.iaid = 2;
  pdView.t1 = 5;
  pdView.t2 = 8;
  p += 12;
  p += emitDhcpv6OptionHeader(hot, p, Dhcpv6OptionCode.IaPrefix, 25);
  const prefixView = new IaPrefixView().wrap(hot, p, 25);
  prefixView.preferredLifetime = 20;
  prefixView.validLifetime = 30;
  prefixView.prefixLength = 56;
  prefixView.setPrefix(prefix, 0);
  p += 25;
  p += emitU32Option(hot, p, Dhcpv6OptionCode.InformationRefreshTime, 900);
  p += emitStatusCodeOption(hot, p, 2, 'NoAddrsAvail');
  t.is(p, n);
  t.is(toHex(hot, 0, p), toHex(fromReprs, 0, n));
  // Copying an option whole, header included, from its data offset.
  const copy = new Uint8Array(100);
  t.is(copyDhcpv6Option(fromReprs, 4, copy, 3), dhcpv6OptionLength(ia));
  t.is(toHex(copy, 3, dhcpv6OptionLength(ia)), toHex(fromReprs, 0, dhcpv6OptionLength(ia)));
  // Non-ASCII status text is written as "?" by the hot-path writer.
  const q = new Uint8Array(16);
  t.is(emitStatusCodeOption(q, 0, 1, 'né'), 8);
  t.is(toHex(q, 0, 8), '000d0004' + '0001' + '6e3f');
});

test('optionRequested reads the Option Request list', (t) => {
  const b = fromHex('00060006' + '0017' + '0018' + '0052' + '0020');
  t.true(optionRequested(b, 4, 6, 23));
  t.true(optionRequested(b, 4, 6, 82));
  t.false(optionRequested(b, 4, 6, 32), 'the code just past the option is not read');
  t.false(optionRequested(b, 4, 0, 23));
});

test('emit refuses an option longer than 65535 octets', (t) => {
  const big: Dhcpv6OptionRepr = { kind: 'unknown', code: 99, data: new Uint8Array(65536) };
  t.throws(() => emitDhcpv6Option(big, new Uint8Array(70000), 0), { instanceOf: TypeError });
  const max: Dhcpv6OptionRepr = { kind: 'unknown', code: 99, data: new Uint8Array(65535) };
  t.is(emitDhcpv6Option(max, new Uint8Array(65539), 0), 65539);
});
