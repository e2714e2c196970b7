/**
 * `punt6 doctor`: the host checked for what `punt6 run` needs, each finding with what it means
 * and its fix. It reads and asks, and changes nothing (src/system/host.ts reads the host,
 * src/flows/ovs.ts asks Open vSwitch, src/daemon/config-check.ts checks the configuration and
 * its state as `punt6 run` does).
 *
 * Findings are `ok`, `info` (worth knowing, nothing to fix), `warn` (punt6 runs, but something
 * answers wrong or will fail) and `fail` (punt6 cannot do its job until it is fixed).
 */

import { dirname } from 'node:path';
import { ConfigError, formatProblem, loadConfig, type Punt6Config } from '../config/index.js';
import { compare, desiredRuleSet, FlowsError, OvsClient } from '../flows/ovs.js';
import { DefaultFlowOptions, PUNT6_COOKIE, type FlowOptions } from '../flows/rules.js';
import { haveCommand } from '../system/exec.js';
import {
  Capability,
  effectiveCapabilities,
  freeSpace,
  hasCapability,
  interfaceDriver,
  interfaceNamed,
  interfaceState,
  ipv6Disabled,
  listenProblem,
  offloadFeatures,
} from '../system/host.js';
import { packageInfo, satisfiesMinimum } from '../system/package.js';
import { stateProblems } from './config-check.js';

export type Severity = 'ok' | 'info' | 'warn' | 'fail';

export interface Finding {
  /** What was checked: `capabilities`, `interface punt0`, `bridge br0`… */
  check: string;
  severity: Severity;
  /** What was found, and what it means. */
  detail: string;
  /** What to do about it (warn, fail). */
  fix?: string;
}

export interface DoctorOptions {
  configPath?: string;
  /** The bridge `punt6 run --bridge` keeps its rules on; default: the first punt interface's. */
  bridge?: string;
  /** The metrics listener `run --metrics` gives, over the configuration's. */
  metrics?: { host: string; port: number };
  flowOptions?: FlowOptions;
  /** The environment of the OVS commands. */
  env?: NodeJS.ProcessEnv;
}

/** Below this much free space in the state directory a full disk is near. */
const LOW_SPACE = 64 * 1024 * 1024;
/** Below this much, the journal's next records may not fit. */
const NO_SPACE = 1024 * 1024;

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function nodeVersion(): Finding {
  const range = packageInfo().nodeRange;
  const v = process.versions.node;
  const ok = range === null ? null : satisfiesMinimum(v, range);
  if (ok === false)
    return {
      check: 'Node.js',
      severity: 'fail',
      detail: `${v} is older than punt6 needs (${range})`,
      fix: 'run punt6 with the Node.js of its node_modules/.bin (npx punt6; .ci/setup installs it from the npm package node)',
    };
  return { check: 'Node.js', severity: 'ok', detail: range === null ? v : `${v} (punt6 needs ${range})` };
}

async function capabilities(): Promise<Finding> {
  const caps = await effectiveCapabilities();
  if (hasCapability(caps, Capability.NetRaw))
    return {
      check: 'capabilities',
      severity: 'ok',
      detail: 'CAP_NET_RAW is effective: punt6 can capture and inject on its punt interfaces (it needs no other)',
    };
  return {
    check: 'capabilities',
    severity: 'fail',
    detail: 'CAP_NET_RAW is not effective: punt6 cannot open its captures (run it as the user punt6 runs as)',
    fix:
      'run punt6 as root, or give it CAP_NET_RAW alone: AmbientCapabilities=CAP_NET_RAW in its systemd unit ' +
      '(docs/punt6.service), or `setcap cap_net_raw+ep` on the node binary (every script node runs then has it)',
  };
}

async function interfaceFindings(name: string, bridge: string | undefined): Promise<Finding[]> {
  const check = `interface ${name}`;
  const state = await interfaceState(name);
  if (state === null)
    return [
      {
        check,
        severity: 'fail',
        detail: 'does not exist in this network namespace (punt6 retries it every second)',
        fix: `create it: an OVS internal port (ovs-vsctl add-port ${bridge ?? 'BR'} ${name} -- set interface ${name} type=internal), or name the right one in interfaces[].name`,
      },
    ];
  const out: Finding[] = [];
  if (!state.up)
    out.push({
      check,
      severity: 'fail',
      detail: 'is down: nothing reaches punt6 on it',
      fix: `ip link set ${name} up`,
    });
  else if (state.operstate === 'lowerlayerdown' || state.operstate === 'down')
    out.push({
      check,
      severity: 'warn',
      detail: `is up but has no carrier (operstate ${state.operstate}): the other end is down`,
      fix: "bring the other end up (a veth's peer)",
    });
  else out.push({ check, severity: 'ok', detail: `exists and is up (operstate ${state.operstate})` });

  const v6 = await ipv6Disabled(name);
  out.push(
    v6 === false
      ? {
          check: `IPv6 on ${name}`,
          severity: 'warn',
          detail: 'is on: the host kernel answers on the punt port beside punt6 and sends its own DAD, RS and MLD',
          fix: `sysctl -w net.ipv6.conf.${name}.disable_ipv6=1 (and in /etc/sysctl.d/ to keep it)`,
        }
      : {
          check: `IPv6 on ${name}`,
          severity: 'ok',
          detail: v6 === true ? 'is off (disable_ipv6 = 1)' : 'is not available on this host',
        },
  );
  out.push(await offloadFinding(name, state.peerIfindex));
  return out;
}

/**
 * What checksum offload means for a punt interface. punt6 fills every checksum of its replies
 * and a packet socket's frames bypass transmit offload, so the punt interface's own settings do
 * not change what punt6 sends. The sender's do: a sender that leaves UDP checksums to the device
 * (a veth with tx-checksumming on, a VM's virtio NIC) hands over DHCPv6 with the checksum
 * unfilled, which punt6 drops as `bad-checksum`.
 */
async function offloadFinding(name: string, peerIfindex: number | null): Promise<Finding> {
  const check = `checksum offload on ${name}`;
  if (!haveCommand('ethtool'))
    return { check, severity: 'info', detail: 'not checked: ethtool is not installed (Debian package ethtool)' };
  const own = await offloadFeatures(name);
  const state =
    own === null
      ? 'ethtool -k cannot read it'
      : `tx-checksumming ${own.get('tx-checksumming') === true ? 'on' : 'off'}, rx-checksumming ${own.get('rx-checksumming') === true ? 'on' : 'off'}`;
  const driver = await interfaceDriver(name);
  if (driver === 'veth' && peerIfindex !== null) {
    const peer = await interfaceNamed(peerIfindex);
    if (peer === null)
      return {
        check,
        severity: 'info',
        detail: `${state}; punt6's replies carry their own checksums. Its veth peer is in another network namespace: if it offloads transmit checksums, DHCPv6 it sends arrives unfinished and is dropped as bad-checksum`,
        fix: 'in the peer\'s namespace: ethtool -k PEER | grep tx-checksumming; "ethtool -K PEER tx off" when on',
      };
    const tx = (await offloadFeatures(peer))?.get('tx-checksumming');
    if (tx === true)
      return {
        check,
        severity: 'warn',
        detail: `${state}; its veth peer ${peer} offloads transmit checksums: DHCPv6 (UDP) sent from there arrives with the checksum unfilled, and punt6 drops it as bad-checksum`,
        fix: `ethtool -K ${peer} tx off`,
      };
    return {
      check,
      severity: 'ok',
      detail: `${state}; its veth peer ${peer} fills its own checksums (tx-checksumming off); punt6's replies carry theirs`,
    };
  }
  return {
    check,
    severity: 'info',
    detail:
      `${state}; punt6's replies carry their own checksums. A VM whose NIC offloads checksums (virtio) may send DHCPv6 ` +
      'with the checksum unfilled: watch punt6_frames_total{outcome="bad-checksum"}, and replay such captures with --no-verify-checksums',
  };
}

async function stateFinding(config: Punt6Config): Promise<Finding> {
  const dir = config.server.stateDirectory;
  const check = 'state directory';
  let at = dir;
  let space;
  for (;;) {
    try {
      space = await freeSpace(at);
      break;
    } catch {
      const parent = dirname(at);
      if (parent === at) return { check, severity: 'fail', detail: `${dir}: no directory of it exists` };
      at = parent;
    }
  }
  const where = at === dir ? dir : `${dir} (made at start, in ${at})`;
  const free = `${mib(space.bytes)} and ${space.files} inodes free`;
  if (space.bytes < NO_SPACE || space.files === 0)
    return {
      check,
      severity: 'fail',
      detail: `${where}: the file system is full (${free}): lease changes cannot be written, so punt6 withholds the DHCPv6 replies that change leases`,
      fix: `make room on it (df -h ${at}), or move server.stateDirectory`,
    };
  if (space.bytes < LOW_SPACE)
    return {
      check,
      severity: 'warn',
      detail: `${where}: ${free}: the lease journal may fill it`,
      fix: `make room on it (df -h ${at})`,
    };
  return { check, severity: 'ok', detail: `${where}: writable, ${free}` };
}

/** Whether something answering on `host:port` is a punt6 (its metrics name punt6_ series). */
async function punt6Answers(host: string, port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://${hostPort(host, port)}/metrics`, { signal: AbortSignal.timeout(2000) });
    return (await r.text()).includes('punt6_');
  } catch {
    return false;
  }
}

async function metricsFinding(want: { host: string; port: number } | null): Promise<Finding> {
  const check = 'metrics port';
  if (want === null)
    return { check, severity: 'info', detail: 'no metrics listener configured (metrics:, run --metrics)' };
  const address = hostPort(want.host, want.port);
  const problem = await listenProblem(want.host, want.port);
  if (problem === null) return { check, severity: 'ok', detail: `${address} is free` };
  if (problem === 'EADDRINUSE') {
    if (await punt6Answers(want.host, want.port))
      return {
        check,
        severity: 'info',
        detail: `${address} is in use by a running punt6 (it answers with punt6 metrics)`,
      };
    return {
      check,
      severity: 'fail',
      detail: `${address} is in use by another program: punt6 run would fail to start`,
      fix: 'stop that program, or give punt6 another port (metrics: in the configuration, or run --metrics HOST:PORT)',
    };
  }
  if (problem === 'EACCES')
    return {
      check,
      severity: 'fail',
      detail: `${address}: a port below 1024 needs CAP_NET_BIND_SERVICE`,
      fix: 'choose a port of 1024 or above',
    };
  if (problem === 'EADDRNOTAVAIL')
    return {
      check,
      severity: 'fail',
      detail: `${address}: ${want.host} is not an address of this host`,
      fix: 'listen on an address the host has (:: for all)',
    };
  return { check, severity: 'fail', detail: `${address}: cannot listen (${problem})` };
}

async function ovsFindings(
  o: DoctorOptions,
  config: Punt6Config | null,
  firstInterface: string | undefined,
): Promise<Finding[]> {
  const ovs = new OvsClient(o.env ?? process.env);
  if (!haveCommand('ovs-vsctl'))
    return [
      {
        check: 'Open vSwitch',
        severity: o.bridge === undefined ? 'info' : 'fail',
        detail: 'its tools are not installed (ovs-vsctl)',
        fix: o.bridge === undefined ? undefined : 'install openvswitch-switch',
      },
    ];
  let bridge = o.bridge;
  if (bridge === undefined && firstInterface !== undefined) bridge = (await ovs.bridgeOf(firstInterface)) ?? undefined;
  if (bridge === undefined) {
    try {
      await ovs.checkRunning();
    } catch (e) {
      return [
        {
          check: 'Open vSwitch',
          severity: 'info',
          detail: `${(e as Error).message}; no bridge to check (--bridge BR)`,
        },
      ];
    }
    return [
      {
        check: 'Open vSwitch',
        severity: 'info',
        detail: `running; ${firstInterface === undefined ? 'no punt interface' : `punt interface ${firstInterface} is on no bridge`}: no bridge to check (--bridge BR)`,
      },
    ];
  }
  const check = `bridge ${bridge}`;
  try {
    await ovs.checkBridge(bridge);
  } catch (e) {
    const message = (e as Error).message;
    return [
      {
        check,
        severity: 'fail',
        detail: message,
        fix: message.includes('does not exist')
          ? `create it (ovs-vsctl add-br ${bridge}), or give the right one with --bridge`
          : 'start Open vSwitch (systemctl start openvswitch-switch), and run doctor as a user that may talk to it',
      },
    ];
  }
  const out: Finding[] = [{ check, severity: 'ok', detail: 'present; ovs-vswitchd answers for it' }];
  if (config === null) return out;
  const rules = `punt6's rules on ${bridge}`;
  const install = `punt6 run --bridge ${bridge} keeps them; punt6 flows --config FILE --bridge ${bridge} installs them once`;
  try {
    const desired = await desiredRuleSet(ovs, bridge, config, o.flowOptions ?? DefaultFlowOptions);
    if ((await ovs.ownFlowCount(bridge)) === 0) {
      out.push({
        check: rules,
        severity: 'fail',
        detail: `none (no rule has cookie ${PUNT6_COOKIE}): nothing is punted to punt6 or answered in OVS`,
        fix: install,
      });
      return out;
    }
    const d = compare(desired, await ovs.ownFlows(bridge), await ovs.meters(bridge));
    if (d.missing === 0 && d.extra === 0 && d.meters === 0)
      out.push({
        check: rules,
        severity: 'ok',
        detail: `${desired.rules.length} rules and ${desired.meters.length} meters, as the configuration wants`,
      });
    else
      out.push({
        check: rules,
        severity: 'warn',
        detail: `differ from the configuration's: ${d.missing} missing, ${d.extra} extra, ${d.meters} meters different`,
        fix: `${install} (give doctor the --meter-* and --table-base options run uses)`,
      });
  } catch (e) {
    if (!(e instanceof FlowsError)) throw e;
    out.push({ check: rules, severity: 'fail', detail: e.message, fix: install });
  }
  return out;
}

/** Every finding, in the order they are printed. */
export async function diagnose(o: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [nodeVersion(), await capabilities()];
  let config: Punt6Config | null = null;
  if (o.configPath !== undefined) {
    try {
      config = await loadConfig(o.configPath);
      findings.push({ check: 'configuration', severity: 'ok', detail: `${o.configPath}: valid` });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems)
        findings.push({
          check: 'configuration',
          severity: 'fail',
          detail: formatProblem(p),
          fix: 'docs/configuration.md; punt6 check --config FILE says the same',
        });
    }
  }
  if (config !== null) {
    for (const itf of config.interfaces) findings.push(...(await interfaceFindings(itf.name, o.bridge)));
    // The state as punt6 run checks it before it opens anything, then the room left for it.
    for (const p of await stateProblems(config, { readContents: true }))
      findings.push({
        check: 'state directory',
        severity: 'fail',
        detail: formatProblem(p),
        fix: "make it usable by punt6's user (ownership, mode, a file system that stores files), or move server.stateDirectory",
      });
    findings.push(await stateFinding(config));
  }
  if (config !== null || o.metrics !== undefined)
    findings.push(await metricsFinding(o.metrics ?? config?.metrics ?? null));
  if (config !== null || o.bridge !== undefined)
    findings.push(...(await ovsFindings(o, config, config?.interfaces[0]?.name)));
  return findings;
}
