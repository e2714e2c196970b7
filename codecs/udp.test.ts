import test from 'ava';
import { parseIpv6 } from './bytes.js';
import { verifyUpperLayer } from './checksum.js';
import { emitIpv6 } from './ipv6.js';
import { Status } from './status.js';
import { emitUdpHeader, fillUdpChecksum, UdpView, UDP_PROTOCOL } from './udp.js';

function datagram(off: number, payload: number[]): Uint8Array {
  const b = new Uint8Array(off + 48 + payload.length + 4);
  emitIpv6(
    {
      source: parseIpv6('fe80::2'),
      destination: parseIpv6('ff02::1:2'),
      nextHeader: UDP_PROTOCOL,
      hopLimit: 1,
      payloadLength: 8 + payload.length,
    },
    b,
    off,
  );
  emitUdpHeader({ sourcePort: 546, destinationPort: 547, payloadLength: payload.length }, b, off + 40);
  b.set(payload, off + 48);
  fillUdpChecksum(b, off + 8, off + 24, off + 40);
  return b;
}

test('builds, fills and verifies a datagram at an offset', (t) => {
  const b = datagram(14, [1, 0xab, 0xcd, 0xef]);
  const v = new UdpView().wrap(b, 54, 12);
  t.is(v.check(), Status.Ok);
  t.is(v.sourcePort, 546);
  t.is(v.destinationPort, 547);
  t.is(v.payloadLength, 4);
  t.is(v.checkChecksum(22, 38), Status.Ok);
  t.true(verifyUpperLayer(b, 22, 38, UDP_PROTOCOL, 54, 12));
  b[58] = (b[58] as number) ^ 0x40;
  t.is(v.checkChecksum(22, 38), Status.BadChecksum);
});

test('length disagreements and truncation', (t) => {
  const b = datagram(0, [1, 2, 3, 4]);
  for (let n = 0; n < 12; n++) t.is(new UdpView().wrap(b, 40, n).check(), Status.Truncated, `length ${n}`);
  b[45] = 7;
  t.is(new UdpView().wrap(b, 40, 12).check(), Status.Malformed);
  b[45] = 10;
  t.is(new UdpView().wrap(b, 40, 12).check(), Status.Malformed);
});

test('a zero checksum is refused over IPv6', (t) => {
  const b = datagram(0, [1]);
  b[46] = 0;
  b[47] = 0;
  const v = new UdpView().wrap(b, 40, 9);
  t.is(v.check(), Status.Ok);
  t.is(v.checkChecksum(8, 24), Status.BadChecksum);
});
