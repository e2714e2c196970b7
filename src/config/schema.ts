/**
 * The JSON Schema of the punt6 YAML file, checked with ajv (all errors, strict schema), and the
 * translation of ajv's errors into `path: reason` problems that name the bad value.
 *
 * The schema checks shape: keys, types, ranges of single values and the text formats
 * (`ipv6-address`, `ipv6-prefix`, `ipv6-pool`, `mac`, `duid`, `domain-name`, `interface-name`,
 * `host-port`, `vlan-id`). Relations between values (an address inside a prefix, t1 <= t2,
 * references by name, duplicates) are checked in check.ts.
 */
import { Ajv, type ErrorObject } from 'ajv';
import {
  domainNameProblem,
  duidProblem,
  hostPortProblem,
  interfaceNameProblem,
  ipv6AddressProblem,
  ipv6PoolProblem,
  ipv6PrefixProblem,
  macProblem,
} from './addr.js';
import type { Steps } from '../system/steps.js';
import type { PathSegment, ProblemList } from './error.js';
import { Dhcpv6Modes, LogLevels, RouterPreferences } from './model.js';

/** Reason text for a string that fails a format; `null` when the text is good. */
const formats: Record<string, (text: string) => string | null> = {
  'ipv6-address': ipv6AddressProblem,
  'ipv6-prefix': ipv6PrefixProblem,
  'ipv6-pool': ipv6PoolProblem,
  // An address alone stands for its /128.
  'ipv6-address-or-prefix': (t) => (t.includes('/') ? ipv6PrefixProblem(t) : ipv6AddressProblem(t)),
  mac: macProblem,
  duid: duidProblem,
  'domain-name': domainNameProblem,
  'interface-name': interfaceNameProblem,
  'host-port': hostPortProblem,
  'file-mode': (t) => (/^0?[0-7]{3}$/.test(t) ? null : `${JSON.stringify(t)} is not a file mode (octal, like "0600")`),
  'vlan-id': (t) =>
    /^\d{1,4}$/.test(t) && +t >= 1 && +t <= 4094 ? null : `${JSON.stringify(t)} is not a VLAN id (1..4094)`,
};

/** Annotation keyword: how to name the expected value in type and const errors. */
const EXPECTED = 'x-expected';

const UINT32_MAX = 0xffffffff;

const str = (format: string) => ({ type: 'string', format }) as const;
const name = { type: 'string', minLength: 1 } as const;
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;
const bool = { type: 'boolean' } as const;
const list = (items: object) => ({ type: 'array', items }) as const;
const obj = (properties: Record<string, object>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;
const oneOfStrings = (values: readonly string[]) => ({ type: 'string', enum: values }) as const;

/** Seconds, or `infinity` (0xffffffff on the wire). */
const lifetime = {
  if: { type: 'string' },
  then: { const: 'infinity', [EXPECTED]: 'a number of seconds or "infinity"' },
  else: { type: 'integer', minimum: 0, maximum: UINT32_MAX, [EXPECTED]: 'a number of seconds or "infinity"' },
} as const;

const prefixEntry = {
  if: { type: 'string' },
  then: str('ipv6-prefix'),
  else: {
    ...obj(
      {
        prefix: str('ipv6-prefix'),
        onLink: bool,
        slaac: bool,
        validLifetime: lifetime,
        preferredLifetime: lifetime,
      },
      ['prefix'],
    ),
    [EXPECTED]: 'a prefix or a mapping with "prefix"',
  },
} as const;

const ra = obj({
  enabled: bool,
  unsolicited: bool,
  minInterval: int(3, 1350),
  maxInterval: int(4, 1800),
  routerLifetime: int(0, 9000),
  reachableTime: int(0, 3_600_000),
  retransTimer: int(0, UINT32_MAX),
  curHopLimit: int(0, 255),
  managed: bool,
  otherConfig: bool,
  preference: oneOfStrings(RouterPreferences),
  routes: list(obj({ prefix: str('ipv6-prefix'), preference: oneOfStrings(RouterPreferences), lifetime }, ['prefix'])),
  rdnss: obj({ servers: list(str('ipv6-address')), lifetime }),
  dnssl: obj({ domains: list(str('domain-name')), lifetime }),
  pref64: obj({ prefix: str('ipv6-prefix'), lifetime: int(0, 65528) }, ['prefix']),
});

/** RFC 4286 §3.1.1 (4..180 s); the MLD Query Interval and Robustness Variable are 16-bit fields. */
const mrd = obj({
  enabled: bool,
  advertisementInterval: int(4, 180),
  queryInterval: int(1, 65535),
  robustness: int(1, 65535),
});

const dhcpv6 = obj({
  mode: oneOfStrings(Dhcpv6Modes),
  dnsServers: list(str('ipv6-address')),
  domainSearch: list(str('domain-name')),
  ntpServers: list(str('ipv6-address')),
  t1: lifetime,
  t2: lifetime,
  preferredLifetime: lifetime,
  validLifetime: lifetime,
  informationRefreshTime: {
    if: { type: 'string' },
    then: { const: 'infinity', [EXPECTED]: 'a number of seconds (at least 600) or "infinity"' },
    else: { type: 'integer', minimum: 600, maximum: UINT32_MAX, [EXPECTED]: 'a number of seconds or "infinity"' },
  },
  rapidCommit: bool,
  solMaxRt: int(60, 86400),
  infMaxRt: int(60, 86400),
  addressPools: list(str('ipv6-pool')),
  prefixDelegation: list(
    obj({ prefix: str('ipv6-prefix'), delegatedLength: int(1, 128) }, ['prefix', 'delegatedLength']),
  ),
  trustedRelays: list(str('ipv6-address-or-prefix')),
});

const network = obj(
  {
    name,
    vlan: int(1, 4094),
    mtu: int(1280, 65535),
    routerMac: str('mac'),
    routerLinkLocal: str('ipv6-address'),
    routerAddresses: list(str('ipv6-address')),
    prefixes: list(prefixEntry),
    dns: obj({ servers: list(str('ipv6-address')), search: list(str('domain-name')) }),
    ra,
    dhcpv6,
    mrd,
  },
  ['name', 'routerMac'],
);

const punt6Interface = obj(
  {
    name: str('interface-name'),
    network: name,
    networks: list(name),
    vlans: { type: 'object', propertyNames: str('vlan-id'), additionalProperties: name },
  },
  ['name'],
);

const port = obj(
  {
    name,
    mac: str('mac'),
    network: name,
    addresses: list(str('ipv6-address')),
    delegatedPrefix: str('ipv6-prefix'),
    clientDuid: str('duid'),
  },
  ['name', 'mac', 'network'],
);

export const configSchema = {
  ...obj(
    {
      interfaces: { ...list(punt6Interface), minItems: 1 },
      networks: { ...list(network), minItems: 1 },
      ports: list(port),
      server: obj({
        duid: str('duid'),
        duidFile: name,
        leaseFile: name,
        stateDirectory: name,
        rateLimit: obj({ rate: int(1, 1_000_000), burst: int(1, 1_000_000) }),
        leaseLimits: obj({
          addressesPerClient: int(1, 1_000_000),
          prefixesPerClient: int(1, 1_000_000),
          addressesPerPort: int(1, 1_000_000),
          prefixesPerPort: int(1, 1_000_000),
          iasPerMessage: int(1, 32),
          maxLeases: int(1, 100_000_000),
        }),
      }),
      metrics: str('host-port'),
      log: obj({ level: oneOfStrings(LogLevels) }),
      control: obj({ socket: name, mode: str('file-mode') }, ['socket']),
    },
    ['interfaces', 'networks'],
  ),
  [EXPECTED]: 'a mapping',
} as const;

/** The validator punt6 checks with: every error, the data in each, strict schemas, punt6's formats. */
export function schemaValidator(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addVocabulary([EXPECTED]);
  for (const [formatName, problem] of Object.entries(formats)) {
    ajv.addFormat(formatName, { type: 'string', validate: (t: string) => problem(t) === null });
  }
  return ajv;
}

const ajv = schemaValidator();
/**
 * The ports are checked one by one (one step each: a reload checks a large file in slices), the
 * rest of the document at once, by a schema whose `ports` is any list.
 */
const validateRest = ajv.compile({
  ...configSchema,
  properties: { ...configSchema.properties, ports: { type: 'array' } },
});
const validatePort = ajv.compile(port);
/** Top-level keys that the schema checks after `ports`: their problems come after the ports'. */
const afterPorts = new Set(
  Object.keys(configSchema.properties).slice(Object.keys(configSchema.properties).indexOf('ports') + 1),
);

// ---- ajv errors → problems ----

function yamlType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function preview(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return yamlType(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `string "abc"`, `integer 5`, `a list`, `null`. */
function describeValue(v: unknown): string {
  const t = yamlType(v);
  if (t === 'null') return 'null';
  if (t === 'list' || t === 'mapping') return article(t);
  return `${t} ${preview(v)}`;
}

const article = (t: string): string => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

const typeNames: Record<string, string> = { object: 'mapping', array: 'list' };

/** Turns ajv's instancePath (`/networks/0/prefixes/1`) into segments, using the data to tell list indexes from keys. */
function pathSegments(doc: unknown, instancePath: string): PathSegment[] {
  if (instancePath === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = doc;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(key));
      cur = cur[Number(key)];
    } else {
      out.push(key);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

function expectedOf(e: ErrorObject): string | undefined {
  const ps = e.parentSchema as Record<string, unknown> | undefined;
  const x = ps?.[EXPECTED];
  return typeof x === 'string' ? x : undefined;
}

function describeRange(e: ErrorObject): string {
  const ps = (e.parentSchema ?? {}) as { minimum?: number; maximum?: number };
  if (ps.minimum !== undefined && ps.maximum !== undefined) {
    return `${preview(e.data)} is out of range ${ps.minimum}..${ps.maximum}`;
  }
  const limit = (e.params as { limit: number }).limit;
  return e.keyword === 'minimum'
    ? `${preview(e.data)} is less than ${limit}`
    : `${preview(e.data)} is more than ${limit}`;
}

/** One ajv error as a problem, or `null` for errors that only repeat another (if/then, propertyNames). */
function translate(doc: unknown, e: ErrorObject): { segments: PathSegment[]; reason: string } | null {
  const segments = pathSegments(doc, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
    case 'propertyNames':
      return null;
    case 'required':
      return { segments: [...segments, String(params['missingProperty'])], reason: 'is required' };
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { segments: [...segments, key], reason: `unknown key (expected one of: ${allowed.join(', ')})` };
    }
    case 'type': {
      const want = expectedOf(e) ?? article(typeNames[String(params['type'])] ?? String(params['type']));
      return { segments, reason: `expected ${want}, got ${describeValue(e.data)}` };
    }
    case 'const':
      return {
        segments,
        reason: `expected ${expectedOf(e) ?? JSON.stringify(params['allowedValue'])}, got ${preview(e.data)}`,
      };
    case 'enum':
      return {
        segments,
        reason: `${preview(e.data)} is not one of: ${(params['allowedValues'] as unknown[]).join(', ')}`,
      };
    case 'format': {
      const text = String(e.data);
      const reason = formats[String(params['format'])]?.(text) ?? `${preview(e.data)} is not valid`;
      // A bad key (VLAN ids of `vlans`) is reported at the key itself.
      const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
      return { segments: propertyName === undefined ? segments : [...segments, propertyName], reason };
    }
    case 'minimum':
    case 'maximum':
      return { segments, reason: describeRange(e) };
    case 'minLength':
      return { segments, reason: 'must not be empty' };
    case 'minItems':
      return { segments, reason: `must list at least ${String(params['limit'])}` };
    case 'minProperties':
      return { segments, reason: `must have at least ${String(params['limit'])} entry` };
    default:
      return { segments, reason: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * ajv's errors for the document, in the order one check of the whole document lists them: the
 * ports are checked one by one (a step each, so that a reload checks a large file in slices), the
 * rest of the document at once; the ports' errors go where that whole check puts them.
 */
export function* schemaErrors(doc: unknown): Steps<ErrorObject[]> {
  const errors: ErrorObject[] = validateRest(doc) ? [] : [...(validateRest.errors ?? [])];
  const ports = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)['ports'] : undefined;
  if (!Array.isArray(ports)) return errors;
  const portErrors: ErrorObject[] = [];
  for (let i = 0; i < ports.length; i++) {
    if (i > 0) yield;
    if (validatePort(ports[i])) continue;
    for (const e of validatePort.errors ?? []) portErrors.push({ ...e, instancePath: `/ports/${i}${e.instancePath}` });
  }
  const at = errors.findIndex((e) => afterPorts.has(topKey(e)));
  errors.splice(at < 0 ? errors.length : at, 0, ...portErrors);
  return errors;
}

/** The top-level key under which an error lies (`/server/duid` → `server`); '' for the root's own. */
function topKey(e: ErrorObject): string {
  const end = e.instancePath.indexOf('/', 1);
  return e.instancePath.slice(1, end < 0 ? undefined : end);
}

/** Checks the document against the schema; adds one problem per violation. Returns true when it passed. */
export function* checkSchema(doc: unknown, problems: ProblemList): Steps<boolean> {
  const errors = yield* schemaErrors(doc);
  if (errors.length === 0) return true;
  const seen = new Set<string>();
  for (const e of errors) {
    const p = translate(doc, e);
    if (p === null) continue;
    const key = JSON.stringify(p);
    if (seen.has(key)) continue;
    seen.add(key);
    problems.add(p.segments, p.reason);
  }
  return false;
}
