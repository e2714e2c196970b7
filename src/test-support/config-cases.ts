/**
 * The configuration documents of the config tests: a small valid document, and the table of
 * refused ones with every problem each gives (src/config/config.test.ts checks the problems,
 * src/daemon/config-check.test.ts that `punt6 check` and `punt6 run` refuse each alike).
 */

import { stringify } from 'yaml';

// A small valid document, changed by each case of the tables below. `any`: the cases break its shape on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a document of any shape
export type Doc = any;
export const base = (): Doc => ({
  interfaces: [{ name: 'punt0', network: 'tenant' }],
  networks: [
    {
      name: 'tenant',
      routerMac: '02:00:00:00:00:fe',
      routerAddresses: ['2001:db8:1::1'],
      prefixes: ['2001:db8:1::/64'],
      dhcpv6: {
        mode: 'stateful',
        addressPools: ['2001:db8:1::1000-2001:db8:1::1fff'],
        prefixDelegation: [{ prefix: '2001:db8:100::/40', delegatedLength: 56 }],
      },
    },
  ],
  ports: [
    { name: 'vm1', mac: '02:00:00:00:00:01', network: 'tenant', addresses: ['2001:db8:1::101'] },
    { name: 'vm2', mac: '02:00:00:00:00:02', network: 'tenant', addresses: ['2001:db8:1::102'] },
  ],
});

/** Adds a second stateful network to the base document, on VLAN 200 of its interface. */
export const addSecondNetwork = (d: Doc): void => {
  d.networks.push({
    name: 'other',
    vlan: 200,
    routerMac: '02:00:00:00:00:fd',
    prefixes: ['2001:db8:2::/64'],
    dhcpv6: { mode: 'stateful' },
  });
  d.interfaces[0].networks = ['other'];
};

/** A document the configuration refuses: a change to the base document, or a text of its own. */
export interface RefusedConfig {
  title: string;
  change?: (d: Doc) => void;
  text?: string;
  /** Every problem, as `PATH: reason`, in the order `parseConfig` lists them. */
  problems: string[];
}

export const refusedConfigs: RefusedConfig[] = [
  {
    title: 'prefix length 129',
    change: (d) => d.networks[0].prefixes.push('fd00::/129'),
    problems: ['networks[0].prefixes[1]: "fd00::/129" is not an IPv6 prefix'],
  },
  {
    title: 'prefix with host bits',
    change: (d) => (d.networks[0].prefixes = ['2001:db8:1::/64', '2001:db8:2::1/64']),
    problems: [
      'networks[0].prefixes[1]: "2001:db8:2::1/64" is not an IPv6 prefix: bits are set after /64 (did you mean "2001:db8:2::/64"?)',
    ],
  },
  {
    title: 'address not in any prefix',
    change: (d) => d.ports[0].addresses.push('2001:db8:2::1'),
    problems: ['ports[0].addresses[1]: "2001:db8:2::1" is not inside any prefix of network "tenant" (2001:db8:1::/64)'],
  },
  {
    title: 'lease limits and trusted relays out of range or malformed',
    change: (d) => {
      d.server = { leaseLimits: { iasPerMessage: 33, addressesPerClient: 0 } };
      d.networks[0].dhcpv6.trustedRelays = ['2001:db8:1::2/129', 'relay1'];
    },
    problems: [
      'networks[0].dhcpv6.trustedRelays[0]: "2001:db8:1::2/129" is not an IPv6 prefix',
      'networks[0].dhcpv6.trustedRelays[1]: "relay1" is not an IPv6 address',
      'server.leaseLimits.addressesPerClient: 0 is out of range 1..1000000',
      'server.leaseLimits.iasPerMessage: 33 is out of range 1..32',
    ],
  },
  {
    title: 't1 greater than t2',
    change: (d) => Object.assign(d.networks[0].dhcpv6, { t1: 3000, t2: 2000 }),
    problems: ['networks[0].dhcpv6.t1: 3000 is greater than t2 (2000)'],
  },
  {
    title: 'unknown key',
    change: (d) => (d.networks[0].routerMAC = '02:00:00:00:00:fe'),
    problems: [
      'networks[0].routerMAC: unknown key (expected one of: name, vlan, mtu, routerMac, routerLinkLocal, routerAddresses, prefixes, dns, ra, dhcpv6, mrd)',
    ],
  },
  {
    title: 'duplicate port MAC',
    change: (d) => (d.ports[1].mac = '02-00-00-00-00-01'),
    problems: ['ports[1].mac: "02-00-00-00-00-01" is also the MAC of port "vm1" (ports[0].mac)'],
  },
  {
    title: 'duplicate address across ports (spelled differently)',
    change: (d) => (d.ports[1].addresses = ['2001:DB8:1:0::101']),
    problems: ['ports[1].addresses[0]: "2001:DB8:1:0::101" is also an address of port "vm1" (ports[0].addresses[0])'],
  },
  {
    title: 'port address is the router address, in a pool, the subnet-router anycast address',
    change: (d) => (d.ports[0].addresses = ['2001:db8:1::1', '2001:db8:1::1001', '2001:db8:1::']),
    problems: [
      'ports[0].addresses[0]: "2001:db8:1::1" is also an address of network "tenant" (networks[0].routerAddresses[0])',
      'ports[0].addresses[1]: "2001:db8:1::1001" lies inside address pool 2001:db8:1::1000-2001:db8:1::1fff (networks[0].dhcpv6.addressPools[0])',
      'ports[0].addresses[2]: "2001:db8:1::" is the Subnet-Router anycast address of 2001:db8:1::/64 (RFC 4291 §2.6.1)',
    ],
  },
  {
    title: 'port on an unknown network',
    change: (d) => (d.ports[1].network = 'tenat'),
    problems: ['ports[1].network: unknown network "tenat"'],
  },
  {
    title: 'VLAN 4095',
    change: (d) => (d.networks[0].vlan = 4095),
    problems: ['networks[0].vlan: 4095 is out of range 1..4094'],
  },
  {
    title: 'VLAN 4095 as a trunk key',
    change: (d) => (d.interfaces[0] = { name: 'punt0', vlans: { 4095: 'tenant' } }),
    problems: ['interfaces[0].vlans.4095: "4095" is not a VLAN id (1..4094)'],
  },
  {
    title: 'pool outside the prefixes',
    change: (d) => (d.networks[0].dhcpv6.addressPools = ['2001:db8:2::/112']),
    problems: [
      'networks[0].dhcpv6.addressPools[0]: "2001:db8:2::/112" is not inside any prefix of network "tenant" (2001:db8:1::/64)',
    ],
  },
  {
    title: 'pool range that ends before it starts',
    change: (d) => (d.networks[0].dhcpv6.addressPools = ['2001:db8:1::2000-2001:db8:1::1000']),
    problems: [
      'networks[0].dhcpv6.addressPools[0]: "2001:db8:1::2000-2001:db8:1::1000" is an empty range: it starts after it ends',
    ],
  },
  {
    title: 'address pool without stateful DHCPv6',
    change: (d) => (d.networks[0].dhcpv6.mode = 'stateless'),
    problems: ['networks[0].dhcpv6.addressPools: address pools need mode: stateful (mode is stateless)'],
  },
  {
    title: 'PD delegated length shorter than the pool prefix',
    change: (d) => (d.networks[0].dhcpv6.prefixDelegation[0].delegatedLength = 32),
    problems: [
      "networks[0].dhcpv6.prefixDelegation[0].delegatedLength: 32 must be longer than the pool's prefix length 40",
    ],
  },
  {
    title: 'two networks on the same interface and VLAN',
    change: (d) => {
      d.networks[0].vlan = 100;
      d.networks.push({ name: 'other', vlan: 100, routerMac: '02:00:00:00:01:fe' });
      d.interfaces = [{ name: 'punt0', networks: ['tenant', 'other'] }];
    },
    problems: [
      'interfaces[0].networks[1]: network "other" and network "tenant" (interfaces[0].networks[0]) are both on VLAN 100 of interface "punt0"',
    ],
  },
  {
    title: 'two untagged networks on one interface',
    change: (d) => {
      d.networks.push({ name: 'other', routerMac: '02:00:00:00:01:fe' });
      d.interfaces = [{ name: 'punt0', network: 'tenant', networks: ['other'] }];
    },
    problems: [
      'interfaces[0].networks[0]: network "other" and network "tenant" (interfaces[0].network) are both on untagged frames of interface "punt0"',
    ],
  },
  {
    title: 'network attached twice, and one attached nowhere',
    change: (d) => {
      d.networks.push({ name: 'other', routerMac: '02:00:00:00:01:fe' });
      d.interfaces.push({ name: 'punt1', vlans: { 5: 'tenant' } });
    },
    problems: [
      'interfaces[1].vlans.5: network "tenant" is already attached at interfaces[0].network',
      'networks[1]: network "other" is not attached to any interface',
    ],
  },
  {
    title: 'minInterval above 0.75 × maxInterval',
    change: (d) => (d.networks[0].ra = { minInterval: 200, maxInterval: 200 }),
    problems: ['networks[0].ra.minInterval: 200 is greater than 0.75 × maxInterval (200) = 150'],
  },
  {
    title: 'minInterval above 0.75 × the default maxInterval',
    change: (d) => (d.networks[0].ra = { minInterval: 451 }),
    problems: ['networks[0].ra.minInterval: 451 is greater than 0.75 × the default maxInterval 600 = 450'],
  },
  {
    title: 'bad MAC',
    change: (d) => (d.ports[0].mac = '02:00:00:00:00'),
    problems: ['ports[0].mac: "02:00:00:00:00" is not a MAC address (six hex bytes, like 02:00:00:00:00:01)'],
  },
  {
    title: 'multicast MAC',
    change: (d) => (d.ports[0].mac = '03:00:00:00:00:01'),
    problems: ['ports[0].mac: "03:00:00:00:00:01" is a multicast MAC address'],
  },
  {
    title: 'bad DUID hex',
    change: (d) => (d.ports[0].clientDuid = '00:03:00:zz'),
    problems: ['ports[0].clientDuid: "00:03:00:zz" is not a DUID (3 to 130 bytes in hex, like 00:04:…)'],
  },
  {
    title: 'DUID with an odd number of digits',
    change: (d) => (d.ports[0].clientDuid = '0003000'),
    problems: ['ports[0].clientDuid: "0003000" is not a DUID (3 to 130 bytes in hex, like 00:04:…)'],
  },
  {
    title: 'delegated prefixes that overlap',
    change: (d) => {
      d.ports[0].delegatedPrefix = '2001:db8:200:100::/56';
      d.ports[1].delegatedPrefix = '2001:db8:200:100::/60';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:200:100::/60" overlaps 2001:db8:200:100::/56 (ports[0].delegatedPrefix)',
    ],
  },
  {
    title: 'a delegated prefix inside a delegation pool, of another length than the pool delegates',
    change: (d) => (d.ports[0].delegatedPrefix = '2001:db8:100:100::/60'),
    problems: [
      'ports[0].delegatedPrefix: "2001:db8:100:100::/60" overlaps prefixDelegation pool 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix), ' +
        'which delegates /56: a delegated prefix there must be one of its /56 prefixes',
    ],
  },
  {
    title: "a delegated prefix inside another network's delegation pool, of another length",
    change: (d) => {
      addSecondNetwork(d);
      d.ports[1].network = 'other';
      d.ports[1].addresses = [];
      d.ports[1].delegatedPrefix = '2001:db8:100::/48';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:100::/48" overlaps prefixDelegation pool 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix), ' +
        'which delegates /56: a delegated prefix there must be one of its /56 prefixes',
    ],
  },
  {
    title: "a delegated prefix over another network's on-link prefix",
    change: (d) => {
      addSecondNetwork(d);
      d.ports[1].network = 'other';
      d.ports[1].addresses = [];
      d.ports[1].delegatedPrefix = '2001:db8:1::100/126';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:1::100/126" overlaps the on-link prefix 2001:db8:1::/64 of network "tenant" (networks[0].prefixes[0])',
    ],
  },
  {
    title: 'address pools of two networks that overlap',
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].prefixes = ['2001:db8:1::/64'];
      d.networks[1].dhcpv6.addressPools = ['2001:db8:1::1800-2001:db8:1::2fff'];
    },
    problems: [
      'networks[1].dhcpv6.addressPools[0]: "2001:db8:1::1800-2001:db8:1::2fff" overlaps 2001:db8:1::1000-2001:db8:1::1fff (networks[0].dhcpv6.addressPools[0])',
    ],
  },
  {
    title: 'delegation pools of two networks that overlap',
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].dhcpv6.prefixDelegation = [{ prefix: '2001:db8:180::/48', delegatedLength: 64 }];
    },
    problems: [
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8:180::/48" overlaps 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix)',
    ],
  },
  {
    title: "a delegation pool over another network's on-link prefix",
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].dhcpv6.prefixDelegation = [{ prefix: '2001:db8::/32', delegatedLength: 48 }];
    },
    problems: [
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8::/32" overlaps the on-link prefix 2001:db8:2::/64 (networks[1].prefixes[0])',
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8::/32" overlaps the on-link prefix 2001:db8:1::/64 of network "tenant" (networks[0].prefixes[0])',
    ],
  },
  {
    title: 'a valid lifetime of 0',
    change: (d) => (d.networks[0].dhcpv6.validLifetime = 0),
    problems: ['networks[0].dhcpv6.validLifetime: 0 makes every lease invalid at once: at least 1 (RFC 9915 §21.6)'],
  },
  {
    title: 'wrong types, missing keys, bad enums',
    change: (d) => {
      d.networks[0].mtu = 'big';
      d.ports[0].addresses = '2001:db8:1::101';
      delete d.ports[1].mac;
      d.networks[0].dhcpv6.mode = 'on';
      d.networks[0].dhcpv6.t1 = 'forever';
      d.log = { level: 'loud' };
    },
    problems: [
      'networks[0].mtu: expected an integer, got string "big"',
      'networks[0].dhcpv6.mode: "on" is not one of: off, stateless, stateful',
      'networks[0].dhcpv6.t1: expected a number of seconds or "infinity", got "forever"',
      'ports[0].addresses: expected a list, got string "2001:db8:1::101"',
      'ports[1].mac: is required',
      'log.level: "loud" is not one of: fatal, error, warn, info, debug, trace, silent',
    ],
  },
  {
    title: 'MRD out of range',
    change: (d) => (d.networks[0].mrd = { enabled: true, advertisementInterval: 200, robustness: 0 }),
    problems: [
      'networks[0].mrd.advertisementInterval: 200 is out of range 4..180',
      'networks[0].mrd.robustness: 0 is out of range 1..65535',
    ],
  },
  {
    title: 'several problems in one file, all listed',
    change: (d) => {
      d.networks[0].prefixes.push('fd00::/129');
      d.networks[0].vlan = 4095;
      d.networks[0].ra = { minInterval: 500 };
      d.networks[0].dhcpv6.t1 = 5000;
      d.networks[0].dhcpv6.t2 = 4000;
      d.ports[1].mac = '02:00:00:00:00:01';
      d.ports[1].addresses = ['2001:db8:1::101', '2001:db8:9::1'];
      d.ports[1].clientDuid = 'xyz';
      d.ports.push({ name: 'vm3', mac: '02:00:00:00:00:03', network: 'nowhere' });
      d.metrics = 'localhost';
    },
    problems: [
      'networks[0].vlan: 4095 is out of range 1..4094',
      'networks[0].prefixes[1]: "fd00::/129" is not an IPv6 prefix',
      'ports[1].clientDuid: "xyz" is not a DUID (3 to 130 bytes in hex, like 00:04:…)',
      'metrics: "localhost" is not HOST:PORT (like "[::1]:9464", "127.0.0.1:9464" or ":9464")',
      'networks[0].ra.minInterval: 500 is greater than 0.75 × the default maxInterval 600 = 450',
      'networks[0].dhcpv6.t1: 5000 is greater than t2 (4000)',
      'ports[1].mac: "02:00:00:00:00:01" is also the MAC of port "vm1" (ports[0].mac)',
      'ports[1].addresses[0]: "2001:db8:1::101" is also an address of port "vm1" (ports[0].addresses[0])',
      'ports[2].network: unknown network "nowhere"',
    ],
  },
  {
    title: 'YAML syntax error: unclosed flow sequence',
    text: 'interfaces:\n  - name: punt0\n    network: [tenant\nnetworks: []\n',
    problems: ['test.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    title: 'YAML: duplicate key',
    text: 'interfaces: []\nnetworks: []\ninterfaces: []\n',
    problems: ['test.yaml:3:1: Map keys must be unique'],
  },
  {
    title: 'YAML: tab indentation',
    text: 'log:\n\tlevel: debug\n',
    problems: ['test.yaml:2:1: Tabs are not allowed as indentation'],
  },
  {
    title: 'YAML: alias without anchor',
    text: 'interfaces: *ifs\nnetworks: []\n',
    problems: ['test.yaml:1:13: unknown alias *ifs (the anchor &ifs must come before it)'],
  },
  {
    title: 'empty file',
    text: '',
    problems: ['(top level): expected a mapping, got null'],
  },
  {
    title: 'a control socket without its path, with a mode that is not octal',
    change: (d) => (d.control = { mode: '0999' }),
    problems: ['control.socket: is required', 'control.mode: "0999" is not a file mode (octal, like "0600")'],
  },
  {
    title: 'a list instead of a mapping',
    text: '- a\n- b\n',
    problems: ['(top level): expected a mapping, got a list'],
  },
];

/** The YAML text of a refused case. */
export function refusedText(c: RefusedConfig): string {
  if (c.text !== undefined) return c.text;
  const d = base();
  c.change!(d);
  return stringify(d);
}
