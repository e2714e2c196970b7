/** The lab's readers of client output, over what the real clients printed in the lab. */

import test from 'ava';
import {
  lastEvent,
  matchField,
  parseDefaultRoutes,
  parseDhclientRecord,
  parseFlowDump,
  parseIpAddr,
  parseNdisc6,
  parsePing,
  parsePrometheus,
  parseRdisc6,
  sameAddresses,
  sameDomains,
} from './parse.js';

// rdisc6 -1 -n eth0 in the lab's vm1, answered by punt6.
const rdisc6 = `Soliciting ff02::2 (ff02::2) on eth0...

Hop limit                 :           64 (      0x40)
Stateful address conf.    :          Yes
Stateful other conf.      :          Yes
Mobile home agent         :           No
Router preference         :       medium
Neighbor discovery proxy  :           No
Router lifetime           :         1800 (0x00000708) seconds
Reachable time            :  unspecified (0x00000000)
Retransmit time           :  unspecified (0x00000000)
 Source link-layer address: 02:00:00:00:00:FE
 MTU                      :         1500 bytes (valid)
 Prefix                   : 2001:db8:1::/64
  On-link                 :          Yes
  Autonomous address conf.:          Yes
  Valid time              :      2592000 (0x00278d00) seconds
  Pref. time              :       604800 (0x00093a80) seconds
 Recursive DNS server     : 2001:db8:1::53
  DNS server lifetime     :         1800 (0x00000708) seconds
 DNS search list          : lab.example 
  DNS search list lifetime:         1800 (0x00000708) seconds
 from fe80::ff:fe00:fe
`;

test('rdisc6: flags, prefix, MTU, RDNSS, DNSSL and source of the first RA', (t) => {
  t.deepEqual(parseRdisc6(rdisc6), {
    from: 'fe80::ff:fe00:fe',
    managed: true,
    otherConfig: true,
    routerLifetime: 1800,
    prefixes: ['2001:db8:1::/64'],
    mtu: 1500,
    rdnss: ['2001:db8:1::53'],
    dnssl: ['lab.example'],
    sourceLinkLayer: '02:00:00:00:00:fe',
  });
  // A second advertisement (rdisc6 -m) is not mixed into the first.
  const second = rdisc6.replace(
    ' Prefix                   : 2001:db8:1::/64',
    ' Prefix                   : 2001:db8:2::/64',
  );
  t.deepEqual(parseRdisc6(rdisc6 + second).prefixes, ['2001:db8:1::/64']);
  t.is(parseRdisc6('Soliciting ff02::2 (ff02::2) on eth0...\nTimed out.\n').from, null);
});

test('ndisc6: the target link-layer address, lower case; none on a timeout', (t) => {
  t.is(
    parseNdisc6(
      'Soliciting 2001:db8:1::1 (2001:db8:1::1) on eth0...\nTarget link-layer address: 02:00:00:00:00:FE\n from 2001:db8:1::1\n',
    ),
    '02:00:00:00:00:fe',
  );
  t.is(parseNdisc6('Soliciting 2001:db8:1::9 (2001:db8:1::9) on eth0...\nTimed out.\nNo response.\n'), null);
});

test('ping: counts and average round trip; a silent target has no average', (t) => {
  const ok = `PING 2001:db8:1::1(2001:db8:1::1) 56 data bytes
64 bytes from 2001:db8:1::1: icmp_seq=1 ttl=64 time=0.260 ms
64 bytes from 2001:db8:1::1: icmp_seq=2 ttl=64 time=0.490 ms

--- 2001:db8:1::1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 201ms
rtt min/avg/max/mdev = 0.260/0.375/0.490/0.115 ms
`;
  t.deepEqual(parsePing(ok), { transmitted: 2, received: 2, avgMs: 0.375 });
  t.deepEqual(
    parsePing(
      '--- 2001:db8:1::9 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 2040ms\n',
    ),
    {
      transmitted: 3,
      received: 0,
      avgMs: null,
    },
  );
});

test('ip -j: addresses with their SLAAC and DAD state, the default route from the RA', (t) => {
  const addr = `[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet6","local":"2001:db8:1::101","prefixlen":128,"scope":"global","dynamic":true,"valid_life_time":7197},{"family":"inet6","local":"2001:db8:1::ff:fe00:1","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true},{"family":"inet6","local":"fe80::ff:fe00:1","prefixlen":64,"scope":"link","tentative":true}]}]`;
  t.deepEqual(parseIpAddr(addr), [
    { address: '2001:db8:1::101', prefixLength: 128, scope: 'global', dynamic: true, tentative: false },
    { address: '2001:db8:1::ff:fe00:1', prefixLength: 64, scope: 'global', dynamic: true, tentative: false },
    { address: 'fe80::ff:fe00:1', prefixLength: 64, scope: 'link', dynamic: false, tentative: true },
  ]);
  t.deepEqual(parseIpAddr(''), []);
  const route = `[{"dst":"default","gateway":"fe80::ff:fe00:fe","dev":"eth0","protocol":"ra","metric":1024,"flags":[],"expires":1794,"pref":"medium"}]`;
  t.deepEqual(parseDefaultRoutes(route), [{ gateway: 'fe80::ff:fe00:fe', dev: 'eth0' }]);
  t.deepEqual(parseDefaultRoutes('[]'), []);
});

test('dhclient record: complete events in order, the last one of the wanted reasons', (t) => {
  const record = `--- PREINIT6
interface=eth0
--- end
--- BOUND6
interface=eth0
new_dhcp6_name_servers=2001:db8:1::53
new_dhcp6_domain_search=lab.example. other.example.
new_ip6_address=2001:db8:1::101
new_ip6_prefixlen=128
--- end
--- RENEW6
interface=eth0
new_ip6_address=2001:db8:1::101
--- end
--- REBIND6
interface=eth0
`;
  const events = parseDhclientRecord(record);
  t.deepEqual(
    events.map((e) => e.reason),
    ['PREINIT6', 'BOUND6', 'RENEW6'],
  );
  const bound = lastEvent(events, ['BOUND6']);
  t.is(bound?.new_dhcp6_domain_search, 'lab.example. other.example.');
  t.is(lastEvent(events, ['BOUND6', 'RENEW6'])?.reason, 'RENEW6');
  t.is(lastEvent(events, ['INFORM6']), undefined);
  // The REBIND6 block has no end line yet: the script is still writing it.
  t.is(lastEvent(events, ['REBIND6']), undefined);
});

test('Prometheus text: names, labels (escapes included) and values; comments skipped', (t) => {
  const text = `# HELP punt6_frames_total Frames by kind and outcome.
# TYPE punt6_frames_total counter
punt6_frames_total{interface="punt0",kind="rs",outcome="answered"} 4
punt6_odd{pool="a\\"b\\\\c"} 1.5
punt6_ra_next_due_seconds 9.205
`;
  t.deepEqual(parsePrometheus(text), [
    { name: 'punt6_frames_total', labels: { interface: 'punt0', kind: 'rs', outcome: 'answered' }, value: 4 },
    { name: 'punt6_odd', labels: { pool: 'a"b\\c' }, value: 1.5 },
    { name: 'punt6_ra_next_due_seconds', labels: {}, value: 9.205 },
  ]);
});

test('ovs-ofctl dump-flows: packet counts, priority, match and actions', (t) => {
  const dump = `NXST_FLOW reply (xid=0x4):
 cookie=0x0, duration=5.1s, table=0, n_packets=2, n_bytes=140, idle_age=3, priority=300,icmp6,in_port=1,icmp_type=133,icmp_code=0 actions=output:100
 cookie=0x0, duration=5.1s, table=0, n_packets=12, n_bytes=1000, idle_age=1, priority=0 actions=NORMAL
`;
  const flows = parseFlowDump(dump);
  t.deepEqual(flows, [
    { packets: 2, priority: 300, match: 'icmp6,in_port=1,icmp_type=133,icmp_code=0', actions: 'output:100' },
    { packets: 12, priority: 0, match: '', actions: 'NORMAL' },
  ]);
  t.is(matchField(flows[0]!.match, 'icmp_type'), '133');
  t.is(matchField(flows[0]!.match, 'nd_target'), undefined);
});

test('domain and address lists compare as sets; a trailing dot and case do not matter', (t) => {
  t.true(sameDomains(['lab.example'], ['LAB.example.']));
  t.false(sameDomains(['lab.example'], ['lab.example.', 'other.example.']));
  t.true(sameAddresses(['2001:db8::2', '2001:db8::1'], ['2001:db8::1', '2001:db8::2']));
  t.false(sameAddresses([], ['2001:db8::1']));
});
