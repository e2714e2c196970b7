/**
 * The lab's layout, derived from a punt6 configuration: one bridge, one internal punt port per
 * configured interface, one VM (network namespace + veth) per configured port, and the OpenFlow
 * rules that send what punt6 answers to the punt port. Pure: no I/O, so it is unit-tested.
 */

import { parseDocument } from 'yaml';
import type { Punt6Config } from '../config/index.js';

/** Every namespace, veth and bridge the lab creates starts with this, so `down` finds them all. */
export const LAB_PREFIX = 'p6lab';
export const BRIDGE = `${LAB_PREFIX}-br0`;
/** The VM side of each veth, inside its namespace. */
export const VM_INTERFACE = 'eth0';
/** OpenFlow port numbers: VMs get 1, 2, …; punt ports start here. */
export const PUNT_OFPORT_BASE = 100;
export const DEFAULT_STATE_DIRECTORY = '/run/punt6-lab';
export const DEFAULT_METRICS_PORT = 9660;

export interface LabVm {
  /** The port name in the configuration (`vm1`). */
  name: string;
  /** Network namespace, also the name of the veth end on the bridge. */
  namespace: string;
  hostInterface: string;
  mac: string;
  ofport: number;
  /** Addresses the configuration assigns to the port (what stateful DHCPv6 hands out). */
  addresses: string[];
  network: LabNetwork;
}

export interface LabNetwork {
  name: string;
  puntInterface: string;
  puntOfport: number;
  routerMac: string;
  routerLinkLocal: string;
  routerAddresses: string[];
  mtu: number;
  /** Prefixes advertised with the A flag: the kernel takes a SLAAC address from these. */
  slaacPrefixes: string[];
  prefixes: string[];
  managed: boolean;
  otherConfig: boolean;
  rdnss: string[];
  dnssl: string[];
  dhcpMode: 'off' | 'stateless' | 'stateful';
  dhcpDns: string[];
  dhcpSearch: string[];
}

export interface LabPlan {
  bridge: string;
  puntInterfaces: { name: string; ofport: number }[];
  vms: LabVm[];
}

export function namespaceOf(portName: string): string {
  return `${LAB_PREFIX}-${portName}`;
}

export function buildPlan(config: Punt6Config): LabPlan {
  const puntInterfaces = config.interfaces.map((i, k) => ({ name: i.name, ofport: PUNT_OFPORT_BASE + k }));
  for (const p of puntInterfaces) {
    if (p.name.length > 15) throw new Error(`interface name ${p.name} is longer than 15 characters`);
  }
  const networks = new Map<string, LabNetwork>();
  for (const net of config.networks) {
    if (net.vlan !== null) continue; // the lab's VMs are untagged access ports
    const punt = puntInterfaces.find((p) => p.name === net.interface);
    if (!punt) continue;
    networks.set(net.name, {
      name: net.name,
      puntInterface: punt.name,
      puntOfport: punt.ofport,
      routerMac: net.routerMac.text,
      routerLinkLocal: net.routerLinkLocal.text,
      routerAddresses: net.routerAddresses.map((a) => a.text),
      mtu: net.mtu,
      slaacPrefixes: net.prefixes.filter((p) => p.slaac).map((p) => p.prefix.text),
      prefixes: net.prefixes.map((p) => p.prefix.text),
      managed: net.ra.managed,
      otherConfig: net.ra.otherConfig,
      rdnss: net.ra.rdnss?.servers.map((s) => s.text) ?? [],
      dnssl: net.ra.dnssl?.domains.slice() ?? [],
      dhcpMode: net.dhcpv6.mode,
      dhcpDns: net.dhcpv6.dnsServers.map((s) => s.text),
      dhcpSearch: net.dhcpv6.domainSearch.slice(),
    });
  }
  const vms: LabVm[] = [];
  for (const port of config.ports) {
    const network = networks.get(port.network);
    if (!network) continue;
    const namespace = namespaceOf(port.name);
    if (namespace.length > 15) throw new Error(`port name ${port.name} is too long for a lab interface name`);
    vms.push({
      name: port.name,
      namespace,
      hostInterface: namespace,
      mac: port.mac.text,
      ofport: vms.length + 1,
      addresses: port.addresses.map((a) => a.text),
      network,
    });
  }
  if (vms.length === 0) throw new Error('the configuration has no port on an untagged network of a punt interface');
  return { bridge: BRIDGE, puntInterfaces, vms };
}

/**
 * The bridge's own flow table: an ordinary learning switch. punt6 itself (`punt6 run --bridge`)
 * adds its rules on top, under its cookie: NS and echo answered in OVS, RS/DHCPv6/… punted to the
 * punt port, the guards and the meters (docs/flows.md); frames it does not claim come back here.
 */
export function buildFlows(_plan: LabPlan): string {
  return '# everything punt6 does not claim: an ordinary learning switch\ntable=0,priority=0,actions=NORMAL\n';
}

/** The most VMs `--vms` makes: MACs, addresses and namespace names stay distinct up to it. */
export const MAX_LAB_VMS = 1000;

/**
 * The configuration text `text` with its ports replaced by `n` VMs on the network of its first
 * port (`vm1` … `vmN`: MAC 02:00:00:00:HH:LL, the address 0x100 + i in the network's first
 * prefix); `vm1` keeps the first port's delegated prefix. For `punt6 lab up --vms N`.
 */
export function withVms(text: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_LAB_VMS) throw new RangeError(`--vms is 1..${MAX_LAB_VMS}`);
  const doc = parseDocument(text);
  const first = doc.getIn(['ports', 0]) as { get(key: string): unknown } | undefined;
  const network = first?.get('network');
  if (typeof network !== 'string') throw new RangeError('the configuration has no port to take the network from');
  const networks = (doc.toJS() as { networks: { name: string; prefixes?: (string | { prefix: string })[] }[] })
    .networks;
  const prefix = networks.find((x) => x.name === network)?.prefixes?.[0];
  const prefixText = typeof prefix === 'string' ? prefix : prefix?.prefix;
  if (prefixText === undefined || !prefixText.endsWith('::/64'))
    throw new RangeError(`network ${network} has no /64 prefix written as X::/64 for the VMs' addresses`);
  const base = prefixText.slice(0, -'/64'.length);
  const delegated = first?.get('delegatedPrefix');
  const hex = (v: number): string => v.toString(16).padStart(2, '0');
  const ports = Array.from({ length: n }, (_, k) => {
    const i = k + 1;
    return {
      name: `vm${i}`,
      mac: `02:00:00:00:${hex(i >> 8)}:${hex(i & 0xff)}`,
      network,
      addresses: [`${base}${(0x100 + i).toString(16)}`],
      ...(i === 1 && typeof delegated === 'string' ? { delegatedPrefix: delegated } : {}),
    };
  });
  doc.set('ports', ports);
  return doc.toString();
}

/**
 * The configuration text with a control socket at `socket` (`punt6 ctl` reaches the lab's punt6
 * through it), unless it names one already.
 */
export function withControlSocket(text: string, socket: string): string {
  const doc = parseDocument(text);
  if (doc.get('control') === undefined) doc.set('control', { socket });
  return doc.toString();
}
