/**
 * End to end with transmit checksum offload on in the VM (as a real VM's virtio or veth has
 * it). Linux fills ICMPv6 checksums itself, but leaves a UDP socket's to the device: a DHCPv6
 * client's messages arrive with the checksum unfilled and marked (TP_STATUS_CSUMNOTREADY). punt6
 * on its packet ring answers them, and NS, RS and echo as before, counting none as a bad
 * checksum. The libpcap dataplane, which does not see the mark, still verifies: it drops the
 * same DHCPv6 message as `bad-checksum`.
 * Needs root, `ip netns`, ethtool, ndisc6, rdisc6, ping, dhclient and `dist/`; outside CI it
 * skips, loudly, when any of that is missing; under CI=true it fails.
 */

import test from 'ava';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  e2eGate,
  frameCount,
  Punt6Process,
  scrape,
  tenantVm,
  until,
  VethVm,
  VM_CLIENT_TOOLS,
} from '../test-support/e2e.js';

const gate = e2eGate('checksum offload end-to-end tests', [...VM_CLIENT_TOOLS, 'dhclient']);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const VM_MAC = '02:00:00:00:00:01';
const vm = new VethVm(`p6rg-o${id}`, `p6rgo${id}`, VM_MAC);

let dir = '';
let configPath = '';
let metricsPort = 0;
let punt6: Punt6Process | undefined;

const metrics = (): Promise<string> => scrape(metricsPort);

/** The sum of punt6_interface_checksum_trusted_frames_total lines with this status. */
function trusted(text: string, status: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith('punt6_interface_checksum_trusted_frames_total{') && l.includes(`status="${status}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function start(extra: string[]): Promise<Punt6Process> {
  await punt6?.kill();
  const p = new Punt6Process(configPath, extra);
  await p.logged('punt6 running');
  return p;
}

test.before(async () => {
  if (!gate.check()) return;
  // VethVm leaves transmit checksum offload on in the VM.
  ({ dir, configPath, metricsPort } = await tenantVm(vm, 'punt6-offload-'));
});

test.after.always(async () => {
  await punt6?.kill();
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

e2e('the ring answers NS, RS, echo and DHCPv6 sent with offloaded checksums, none counted bad', async (t) => {
  t.timeout(60_000);
  punt6 = await start(['--dataplane', 'ring']);
  const running = punt6.logs.find((l) => l.msg === 'punt6 running');
  t.is(running?.dataplane, 'ring');
  const offload = await vm.exec(['ethtool', '-k', vm.vmIf]);
  t.regex(offload.out, /tx-checksumming: on/);

  const nd = await vm.exec(['ndisc6', '-1', '-w', '2000', '2001:db8:1::1', vm.vmIf]);
  t.is(nd.code, 0, nd.out);
  t.regex(nd.out, /Target link-layer address: 02:00:00:00:00:FE/i);
  const rd = await vm.exec(['rdisc6', '-1', '-w', '2000', vm.vmIf]);
  t.is(rd.code, 0, rd.out);
  t.regex(rd.out, /Prefix\s+:\s+2001:db8:1::\/64/);
  const ping = await vm.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', `fe80::ff:fe00:fe%${vm.vmIf}`]);
  t.is(ping.code, 0, ping.out);
  // A DHCPv6 Information-request from the kernel's UDP socket (-S: stateless, -1: one try).
  const dh = await vm.exec(
    [
      'dhclient',
      '-6',
      '-S',
      '-1',
      '-lf',
      join(dir, 'dh.leases'),
      '-pf',
      join(dir, 'dh.pid'),
      '-sf',
      '/bin/true',
      vm.vmIf,
    ],
    30_000,
  );
  t.is(dh.code, 0, dh.out);

  const m = await until('the answers counted', async () => {
    const text = await metrics();
    return frameCount(text, { kind: 'dhcpv6-information-request', outcome: 'answered' }) >= 1 ? text : null;
  });
  t.true(frameCount(m, { kind: 'ns', outcome: 'answered' }) >= 1);
  t.true(frameCount(m, { kind: 'rs', outcome: 'answered' }) >= 1);
  t.true(frameCount(m, { kind: 'echo-request', outcome: 'answered' }) >= 2);
  t.is(frameCount(m, { outcome: 'bad-checksum' }), 0, 'no frame dropped as bad-checksum');
  t.true(trusted(m, 'not-ready') >= 1, 'the kernel marked the DHCPv6 message checksum-not-ready');
});

e2e('libpcap, which does not see the mark, verifies and drops the same DHCPv6 message as bad-checksum', async (t) => {
  t.timeout(40_000);
  punt6 = await start(['--dataplane', 'pcap']);
  t.is(punt6.logs.find((l) => l.msg === 'punt6 running')?.dataplane, 'pcap');
  const dh = await vm.exec(
    [
      'timeout',
      '5',
      'dhclient',
      '-6',
      '-S',
      '-1',
      '-lf',
      join(dir, 'dh2.leases'),
      '-pf',
      join(dir, 'dh2.pid'),
      '-sf',
      '/bin/true',
      vm.vmIf,
    ],
    30_000,
  );
  t.not(dh.code, 0, 'no answer');
  const m = await until('the drop counted', async () => {
    const text = await metrics();
    // The UDP checksum fails before the DHCPv6 type is read: counted as undecodable.
    return frameCount(text, { outcome: 'bad-checksum' }) >= 1 ? text : null;
  });
  t.is(frameCount(m, { kind: 'dhcpv6-information-request', outcome: 'answered' }), 0);
  t.is(trusted(m, 'not-ready'), 0);
});
