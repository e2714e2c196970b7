/**
 * Address text for the configuration: parsing and checking IPv6 addresses, prefixes, pools, MAC
 * addresses and DUIDs. An address is compared with prefixes and pools as bytes (a configuration
 * has one or more per port); the arithmetic between prefixes and pools (overlap, containment),
 * of which there are few, is done by `ip-num`. Each
 * `xProblem(text)` returns `null` for good text, or a reason that names the bad value; the JSON
 * Schema formats in schema.ts use the same functions, so the schema and the messages agree.
 */
import { IPv6, IPv6CidrRange, RangedSet } from 'ip-num';
import { compareAddr, formatIpv6, formatMac, fromHex, parseIpv6 } from '../../codecs/bytes.js';
import type { Ipv6Address, Ipv6AddressRange, Ipv6Prefix, MacAddress } from './model.js';

/** A parsed prefix: the model form plus the ip-num range for arithmetic. */
export interface ParsedPrefix {
  readonly model: Ipv6Prefix;
  readonly range: RangedSet<IPv6>;
}

export interface ParsedPool {
  readonly model: Ipv6AddressRange;
  readonly range: RangedSet<IPv6>;
}

const show = (v: string): string => JSON.stringify(v);

function bigintToBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(16);
  let x = v;
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

// ---- addresses ----

/** The 16 bytes of an address in RFC 4291 §2.2 text (no zone, no prefix length), or null. */
function addressBytes(text: string): Uint8Array | null {
  if (text.includes('%') || text.includes('/')) return null;
  try {
    return parseIpv6(text);
  } catch {
    return null;
  }
}

export function ipv6AddressProblem(text: string): string | null {
  return addressBytes(text) === null ? `${show(text)} is not an IPv6 address` : null;
}

export function parseIpv6Address(text: string): { readonly model: Ipv6Address } | null {
  const bytes = addressBytes(text);
  if (bytes === null) return null;
  return { model: { text: formatIpv6(bytes), bytes } };
}

/** Whether first <= address <= last, as 128-bit numbers. */
export function addressInRange(address: Uint8Array, first: Uint8Array, last: Uint8Array): boolean {
  return compareAddr(first, 0, address, 0) <= 0 && compareAddr(address, 0, last, 0) <= 0;
}

export function addressModel(bytes: Uint8Array): Ipv6Address {
  return { text: formatIpv6(bytes), bytes };
}

// ---- prefixes ----

const prefixPattern = /^([^/]+)\/(\d{1,3})$/;

export function ipv6PrefixProblem(text: string): string | null {
  const m = prefixPattern.exec(text);
  const length = m ? Number(m[2]) : -1;
  if (!m || length > 128 || ipv6AddressProblem(m[1] as string) !== null) {
    return `${show(text)} is not an IPv6 prefix`;
  }
  const ip = new IPv6(m[1] as string);
  const hostBits = 128 - length;
  const network = hostBits === 128 ? 0n : (ip.getValue() >> BigInt(hostBits)) << BigInt(hostBits);
  if (network !== ip.getValue()) {
    const canonical = `${formatIpv6(bigintToBytes(network))}/${length}`;
    return `${show(text)} is not an IPv6 prefix: bits are set after /${length} (did you mean ${show(canonical)}?)`;
  }
  return null;
}

export function parseIpv6Prefix(text: string): ParsedPrefix | null {
  if (ipv6PrefixProblem(text) !== null) return null;
  const cidr = IPv6CidrRange.fromCidr(text);
  const address = bigintToBytes(cidr.getFirst().getValue());
  const length = Number(cidr.getPrefix().getValue());
  return {
    model: { text: `${formatIpv6(address)}/${length}`, address, length },
    range: RangedSet.fromCidrRange(cidr) as RangedSet<IPv6>,
  };
}

/** The prefix's first `length` bits as text, the rest cleared: equal keys, equal prefixes. */
function prefixKey(address: Uint8Array, length: number): string {
  let key = `${length}/`;
  const whole = length >>> 3;
  for (let i = 0; i < whole; i++) key += String.fromCharCode(address[i] as number);
  const bits = length & 7;
  if (bits !== 0) key += String.fromCharCode((address[whole] as number) & (0xff << (8 - bits)) & 0xff);
  return key;
}

/**
 * Whether a prefix overlaps any of a growing set, in time that does not grow with the set: two
 * prefixes overlap when one contains the other. Each prefix is kept under its own key and under
 * its truncation to every shorter length the set has seen (a new length adds those keys for the
 * prefixes already there), so a lookup is one key per length. Configurations use a few lengths.
 */
export class PrefixSet {
  private readonly lengths = new Set<number>();
  private readonly members: Ipv6Prefix[] = [];
  /** Every member's own key. */
  private readonly exact = new Set<string>();
  /** Every member truncated to each seen length up to its own. */
  private readonly truncated = new Set<string>();

  overlaps(p: Ipv6Prefix): boolean {
    this.learnLength(p.length);
    // A member containing p: p truncated to the member's length is the member.
    for (const l of this.lengths) if (l <= p.length && this.exact.has(prefixKey(p.address, l))) return true;
    // A member inside p: the member truncated to p's length is p.
    return this.truncated.has(prefixKey(p.address, p.length));
  }

  add(p: Ipv6Prefix): void {
    this.learnLength(p.length);
    this.members.push(p);
    this.exact.add(prefixKey(p.address, p.length));
    for (const l of this.lengths) if (l <= p.length) this.truncated.add(prefixKey(p.address, l));
  }

  private learnLength(length: number): void {
    if (this.lengths.has(length)) return;
    this.lengths.add(length);
    for (const m of this.members) if (m.length >= length) this.truncated.add(prefixKey(m.address, length));
  }
}

// ---- address pools: a prefix or `first-last` ----

export function ipv6PoolProblem(text: string): string | null {
  if (text.includes('/')) {
    return ipv6PrefixProblem(text) === null ? null : `${show(text)} is not an IPv6 prefix or address range`;
  }
  const parts = text.split('-');
  if (parts.length !== 2 || parts.some((p) => ipv6AddressProblem(p.trim()) !== null)) {
    return `${show(text)} is not an IPv6 prefix or address range (FIRST-LAST)`;
  }
  const first = new IPv6(parts[0]!.trim());
  const last = new IPv6(parts[1]!.trim());
  if (first.isGreaterThan(last)) return `${show(text)} is an empty range: it starts after it ends`;
  return null;
}

export function parseIpv6Pool(text: string): ParsedPool | null {
  if (ipv6PoolProblem(text) !== null) return null;
  if (text.includes('/')) {
    const p = parseIpv6Prefix(text)!;
    const first = bigintToBytes(p.range.getFirst().getValue());
    const last = bigintToBytes(p.range.getLast().getValue());
    return { model: { text: p.model.text, first, last }, range: p.range };
  }
  const [a, b] = text.split('-') as [string, string];
  const firstIp = new IPv6(a.trim());
  const lastIp = new IPv6(b.trim());
  const first = bigintToBytes(firstIp.getValue());
  const last = bigintToBytes(lastIp.getValue());
  return {
    model: { text: `${formatIpv6(first)}-${formatIpv6(last)}`, first, last },
    range: new RangedSet(firstIp, lastIp),
  };
}

// ---- MAC addresses ----

const macPattern = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

export function macProblem(text: string): string | null {
  return macPattern.test(text) ? null : `${show(text)} is not a MAC address (six hex bytes, like 02:00:00:00:00:01)`;
}

export function parseMacAddress(text: string): MacAddress | null {
  if (!macPattern.test(text)) return null;
  // Six hex pairs, each followed by one separator: the pattern has checked every character.
  const bytes = new Uint8Array(6);
  for (let i = 0; i < 6; i++) bytes[i] = parseInt(text.slice(3 * i, 3 * i + 2), 16);
  return { text: formatMac(bytes), bytes };
}

/** Link-local address from a MAC by modified EUI-64 (RFC 4291 §2.5.1 and appendix A). */
export function linkLocalFromMac(mac: Uint8Array): Ipv6Address {
  const b = new Uint8Array(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b[8] = (mac[0] as number) ^ 0x02; // invert the universal/local bit
  b[9] = mac[1] as number;
  b[10] = mac[2] as number;
  b[11] = 0xff;
  b[12] = 0xfe;
  b[13] = mac[3] as number;
  b[14] = mac[4] as number;
  b[15] = mac[5] as number;
  return addressModel(b);
}

// ---- DUIDs (RFC 9915 §11: a 2-byte type and up to 128 bytes) ----

const hexPattern = /^(?:[0-9a-fA-F]{2})(?::?[0-9a-fA-F]{2})*$/;

export function duidProblem(text: string): string | null {
  const n = text.replace(/:/g, '').length / 2;
  if (!hexPattern.test(text) || n < 3 || n > 130) {
    return `${show(text)} is not a DUID (3 to 130 bytes in hex, like 00:04:…)`;
  }
  return null;
}

export function parseDuid(text: string): Uint8Array | null {
  return duidProblem(text) === null ? fromHex(text) : null;
}

// ---- other formats ----

/** A DNS domain name for search lists (RFC 1035 §2.3.1 labels, RFC 1123 leading digits). */
export function domainNameProblem(text: string): string | null {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = name.split('.');
  const ok =
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
  return ok ? null : `${show(text)} is not a domain name`;
}

/** Linux interface name rules (dev_valid_name): 1 to 15 bytes, no `/`, `:` or white space. */
export function interfaceNameProblem(text: string): string | null {
  const ok = text.length > 0 && text.length <= 15 && text !== '.' && text !== '..' && !/[\s/:]/.test(text);
  return ok ? null : `${show(text)} is not a network interface name (1 to 15 characters, no "/", ":" or spaces)`;
}

/** `host:port`, `[ipv6]:port` or `:port`. */
export function parseHostPort(text: string): { readonly host: string; readonly port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  if (m[1] !== undefined) {
    return ipv6AddressProblem(m[1]) === null ? { host: m[1], port } : null;
  }
  const host = m[2] ?? '';
  return { host: host === '' ? '::' : host, port };
}

export function hostPortProblem(text: string): string | null {
  return parseHostPort(text) === null
    ? `${show(text)} is not HOST:PORT (like "[::1]:9464", "127.0.0.1:9464" or ":9464")`
    : null;
}
