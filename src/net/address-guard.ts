import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

/** What an IP address is, for deciding whether a webhook may be sent there. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

/** A class, or a rule that derives one from the IPv4 address an IPv6 address embeds. */
type Rule = AddressClass | ((address: bigint) => AddressClass);

interface Range {
  base: bigint;
  bits: number;
  rule: Rule;
}

/**
 * Special IPv4 ranges (IANA special-purpose registry, plus cloud metadata
 * endpoints). The longest matching prefix wins; anything else is public.
 */
const IPV4_RANGES: ReadonlyArray<readonly [string, AddressClass]> = [
  ['0.0.0.0/8', 'unspecified'], // "this network"; 0.0.0.0 reaches the host itself on Linux
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['100.100.100.200/32', 'metadata'], // Alibaba Cloud
  ['127.0.0.0/8', 'loopback'],
  ['168.63.129.16/32', 'metadata'], // Azure wire server (a public range, reachable only inside Azure)
  ['169.254.0.0/16', 'link-local'],
  ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure, OpenStack...
  ['169.254.170.2/32', 'metadata'], // AWS ECS task credentials
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'reserved'], // TEST-NET-1
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'], // benchmarking
  ['198.51.100.0/24', 'reserved'], // TEST-NET-2
  ['203.0.113.0/24', 'reserved'], // TEST-NET-3
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // includes 255.255.255.255
];

/** The IPv4 address in bits `from`..`from + 32` (counted from the top) of an IPv6 address. */
const embeddedV4 =
  (from: number): Rule =>
  (address) =>
    classifyV4(Number((address >> BigInt(96 - from)) & 0xffffffffn));

/**
 * Special IPv6 ranges. Addresses outside global unicast (2000::/3) and not
 * listed here are reserved; addresses that embed an IPv4 address (mapped,
 * NAT64, 6to4) are classified by it.
 */
const IPV6_RANGES: ReadonlyArray<readonly [string, Rule]> = [
  ['::/0', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', embeddedV4(96)], // IPv4-mapped
  ['64:ff9b::/96', embeddedV4(96)], // NAT64 well-known prefix
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['100::/64', 'reserved'], // discard-only
  ['2000::/3', 'public'],
  ['2001::/23', 'reserved'], // IETF protocol assignments (Teredo, benchmarking, ORCHID)
  ['2001:db8::/32', 'reserved'], // documentation
  ['2002::/16', embeddedV4(16)], // 6to4
  ['3fff::/20', 'reserved'], // documentation
  ['fc00::/7', 'unique-local'],
  ['fd00:ec2::254/128', 'metadata'], // AWS IMDS over IPv6
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
];

/** `a.b.c.d` (already validated) as a 32-bit number. */
function parseV4(text: string): number {
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Colon-separated hex groups, the last of which may be a dotted IPv4 address. */
function groups(text: string): number[] {
  if (text === '') return [];
  return text.split(':').flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)];
    const v4 = parseV4(group);
    return [v4 >>> 16, v4 & 0xffff];
  });
}

/** An IPv6 address (already validated, zone removed) as a 128-bit number. */
function parseV6(text: string): bigint {
  const [head = '', tail] = text.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** Parses a CIDR table once, longest prefixes first. */
function compileRanges<R extends Rule>(
  table: ReadonlyArray<readonly [string, R]>,
  parse: (text: string) => bigint,
  width: number,
): Range[] {
  return table
    .map(([cidr, rule]) => {
      const [text = '', bits = ''] = cidr.split('/');
      const prefix = Number(bits);
      return { base: parse(text) >> BigInt(width - prefix), bits: prefix, rule };
    })
    .sort((a, b) => b.bits - a.bits);
}

const V4 = compileRanges(IPV4_RANGES, (text) => BigInt(parseV4(text)), 32);
const V6 = compileRanges(IPV6_RANGES, parseV6, 128);

/** The rule of the longest prefix of `ranges` that contains `address`. */
function match(ranges: readonly Range[], address: bigint, width: number): Rule | undefined {
  return ranges.find((range) => address >> BigInt(width - range.bits) === range.base)?.rule;
}

function classifyV4(address: number): AddressClass {
  const rule = match(V4, BigInt(address), 32) ?? 'public';
  return typeof rule === 'string' ? rule : rule(BigInt(address));
}

function classifyV6(address: bigint): AddressClass {
  const rule = match(V6, address, 128) ?? 'reserved';
  return typeof rule === 'string' ? rule : rule(address);
}

/**
 * Classifies an IPv4 or IPv6 address (a zone such as `%eth0` is ignored).
 * Only `public` addresses may receive webhooks by default. Throws a TypeError
 * for anything that is not an IP address.
 *
 * @example classifyAddress('::ffff:7f00:1'); // 'loopback'
 * @example classifyAddress('169.254.169.254'); // 'metadata'
 */
export function classifyAddress(ip: string): AddressClass {
  const text = ip.split('%')[0] ?? '';
  if (isIPv4(text)) return classifyV4(parseV4(text));
  if (isIPv6(text)) return classifyV6(parseV6(text));
  throw new TypeError(`not an IP address: ${ip}`);
}

/** Host names refused by name, before any DNS: they only ever mean "this machine" or "this cloud". */
const BLOCKED_NAME = /^(?:.+\.)?(?:localhost|internal)\.*$/;

/** `[::1]` -> `::1`; other host names unchanged. */
function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * What a workspace is told when its target is refused for where it points: never the
 * address or the host name behind it (DESIGN.md 3a). Operators find those in the log.
 */
export const TARGET_NOT_ALLOWED = 'target address not allowed';

/**
 * The result of {@link checkTargetUrl}. `blocked` says why an address or host was refused
 * (its class, or `name` for a reserved host name), for logs and tests; `reason` is what the
 * API shows.
 */
export type TargetCheck =
  { ok: true; url: URL } | { ok: false; reason: string; blocked?: AddressClass | 'name' };

/**
 * The static check of a webhook target at create time: `http:` or `https:`, no
 * credentials, not `localhost` / `*.localhost` / `*.internal`, and an IP literal
 * must be public. WHATWG URL parsing normalises `http://2130706433/` and
 * `http://0x7f.1/` to `127.0.0.1` first, so those are caught too. With
 * `allowPrivate` only the scheme and the credentials are checked. Host names
 * are checked again, after DNS, by {@link createGuardedLookup}.
 *
 * @example checkTargetUrl('http://0x7f.1/', false); // { ok: false, reason: 'target address not allowed', blocked: 'loopback' }
 */
export function checkTargetUrl(url: string, allowPrivate: boolean): TargetCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: 'only http and https URLs are allowed' };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials in the URL are not allowed' };
  }
  if (allowPrivate) return { ok: true, url: parsed };
  const host = unbracket(parsed.hostname);
  if (BLOCKED_NAME.test(host)) return { ok: false, reason: TARGET_NOT_ALLOWED, blocked: 'name' };
  if (isIP(host) !== 0) {
    const kind = classifyAddress(host);
    if (kind !== 'public') return { ok: false, reason: TARGET_NOT_ALLOWED, blocked: kind };
  }
  return { ok: true, url: parsed };
}

/**
 * A connection refused because its address is not public. Its message is what the
 * attempt log shows a workspace, so it names neither the address nor the host (a host
 * name that resolves to an internal address maps the hub's network); they are kept as
 * properties, and `describe()` says it all for the server log.
 */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(TARGET_NOT_ALLOWED);
    this.name = 'BlockedAddressError';
  }

  /** The full story, for operators: `the address 127.0.0.1 of vm is loopback, not public`. */
  describe(): string {
    const of = this.hostname === this.address ? '' : ` of ${this.hostname}`;
    return `the address ${this.address}${of} is ${this.addressClass}, not public`;
  }
}

/** The BlockedAddressError in an error or its causes (undici and plugins may wrap it). */
export function blockedAddressIn(error: unknown): BlockedAddressError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

/** The error for the first non-public address, if any. */
function firstBlocked(
  hostname: string,
  addresses: readonly LookupAddress[],
): BlockedAddressError | undefined {
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind !== 'public') return new BlockedAddressError(hostname, address, kind);
  }
  return undefined;
}

/**
 * A `dns.lookup`-compatible function (node's `net.LookupFunction`, `options.all`
 * included) that fails with {@link BlockedAddressError} (code `EBLOCKEDADDRESS`)
 * when any resolved address is not public, unless `allowPrivate`. Passed to the
 * socket, it makes the connection go to exactly the addresses that were checked,
 * so DNS rebinding between check and connect is impossible.
 *
 * @example net.connect({ host: 'example.com', port: 80, lookup: createGuardedLookup(false) });
 */
export function createGuardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const blocked = allowPrivate ? undefined : firstBlocked(hostname, addresses);
      if (blocked) return callback(blocked, []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(
          Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
          [],
        );
      callback(null, first.address, first.family);
    });
  };
}

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`. */
  allowPrivate: boolean;
  /** `WEBHOOK_TIMEOUT_MS`: connect, headers and body timeouts each. */
  timeoutMs: number;
  /** Sockets per origin; undici's default (unlimited) when omitted. */
  connections?: number;
}

/**
 * An undici agent that only connects to public addresses (unless
 * `allowPrivate`): host names go through {@link createGuardedLookup}, and IP
 * literals, which sockets never look up, are classified before connecting.
 * Redirects are not followed (undici's default), so a 3xx is just a response.
 *
 * @example
 * const agent = createGuardedAgent({ allowPrivate: false, timeoutMs: 10_000 });
 * await request(url, { method: 'POST', body, dispatcher: agent });
 */
export function createGuardedAgent(opts: GuardedAgentOptions): Agent {
  const { allowPrivate, timeoutMs, connections } = opts;
  const connectSocket = buildConnector({
    timeout: timeoutMs,
    lookup: createGuardedLookup(allowPrivate),
  });
  const connect: buildConnector.connector = (options, callback) => {
    const host = unbracket(options.hostname);
    if (!allowPrivate && isIP(host) !== 0) {
      const kind = classifyAddress(host);
      if (kind !== 'public') return callback(new BlockedAddressError(host, host, kind), null);
    }
    connectSocket(options, callback);
  };
  return new Agent({
    connect,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(connections === undefined ? {} : { connections }),
  });
}
