/**
 * The lab's layout, derived from a punt6 configuration: one bridge, one internal punt port per
 * configured interface, one VM (network namespace + veth) per configured port, and the OpenFlow
 * rules that send what punt6 answers to the punt port. Pure: no I/O, so it is unit-tested.
 */

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
 * The lab's flow table (ovs-ofctl add-flows syntax, one flow a line, comments start with #).
 * See docs/lab.md for the reasoning behind each group.
 */
export function buildFlows(plan: LabPlan): string {
  const lines: string[] = [];
  const add = (comment: string, flows: string[]): void => {
    lines.push(`# ${comment}`);
    lines.push(...flows);
  };
  for (const vm of plan.vms) {
    const n = vm.network;
    const inPort = `in_port=${vm.ofport}`;
    const toPunt = `actions=output:${n.puntOfport}`;
    const punt = (match: string): string => `table=0,priority=300,${inPort},${match},${toPunt}`;
    const router = [n.routerLinkLocal, ...n.routerAddresses];
    const nsTargets = [...new Set([...router, ...plan.vms.filter((v) => v.network.name === n.name).flatMap((v) => v.addresses)])];
    add(`${vm.name}: control traffic punt6 answers goes to ${n.puntInterface} only`, [
      punt('icmp6,icmp_type=133,icmp_code=0'),
      ...nsTargets.map((t) => punt(`icmp6,icmp_type=135,icmp_code=0,nd_target=${t}`)),
      punt('icmp6,ipv6_src=::,icmp_type=135,icmp_code=0'),
      ...router.map((a) => punt(`icmp6,ipv6_dst=${a},icmp_type=128`)),
      punt('icmp6,icmp_type=141'),
      punt('icmp6,icmp_type=152'),
      punt('udp6,tp_dst=547'),
    ]);
  }
  for (const p of plan.puntInterfaces) {
    const inPort = `in_port=${p.ofport}`;
    add(`${p.name}: replies go to the VM whose MAC is the destination, anything else is switched`, [
      ...plan.vms.filter((v) => v.network.puntInterface === p.name).map((v) => `table=0,priority=200,${inPort},dl_dst=${v.mac},actions=output:${v.ofport}`),
      `table=0,priority=100,${inPort},actions=NORMAL`,
    ]);
  }
  add('everything else: an ordinary learning switch', ['table=0,priority=0,actions=NORMAL']);
  return lines.join('\n') + '\n';
}
