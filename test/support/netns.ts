/**
 * Hosts for a multi-host test, made of Linux network namespaces on this machine: one
 * namespace per host, each joined by a veth pair to a bridge in the root namespace, which
 * plays the database host (its bridge address is where the hosts reach PostgreSQL and
 * Redis, through forwarders; test/support/tcp-forwarder.ts). No default route: traffic
 * stays on the bridge, between the hosts and the root namespace.
 *
 * Names carry the creating process's pid (`fhmh-<pid>-<host>` for namespaces,
 * `fhmh<pid>b` / `fhmh<pid>v<n>` for links), so a later run can tell a crashed run's
 * leftovers (its pid is gone) from another run in progress, and removes only the former.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What every name this module makes starts with. */
export const NETNS_PREFIX = 'fhmh';

/** One host: its namespace, its address on the bridge, and the command prefix that runs a program in it. */
export interface NetnsHost {
  name: string;
  ns: string;
  address: string;
  /** `ip netns exec <ns>`: put before a command to run it on this host. */
  wrap: readonly string[];
}

export interface Network {
  /** The root namespace's address on the bridge: the "database host". */
  gateway: string;
  hosts: Record<string, NetnsHost>;
  /** Kills what still runs in the namespaces, then removes them, the links and the bridge. */
  destroy(): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8' })).stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(stderr || message).trim()}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process in namespace `ns` (they belong to the test run that made it). */
async function killInside(ns: string): Promise<void> {
  const pids = (await ip('netns', 'pids', ns).catch(() => ''))
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to end.
    }
  }
}

/**
 * Removes namespaces and links of earlier runs whose process is gone (a run that crashed
 * before its afterAll), with whatever still runs inside them. Runs in progress are left alone.
 */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const namespaces = (await ip('netns', 'list'))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${NETNS_PREFIX}-`));
  for (const ns of namespaces) {
    const pid = Number(ns.split('-')[1]);
    if (!Number.isInteger(pid) || alive(pid)) continue;
    await killInside(ns);
    await ip('netns', 'del', ns);
    removed.push(ns);
  }
  const links = (await ip('-o', 'link', 'show'))
    .split('\n')
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => new RegExp(`^${NETNS_PREFIX}\\d+[bv]`).test(name));
  for (const link of links) {
    const pid = Number(/^\D+(\d+)/.exec(link)?.[1]);
    if (alive(pid)) continue;
    // A veth whose peer's namespace was just deleted may already be going away.
    await ip('link', 'del', link).catch(() => undefined);
    removed.push(link);
  }
  return removed;
}

/** A /24 in 10.213.0.0/16 that no address or route of this machine uses yet. */
async function freeSubnet(): Promise<string> {
  const used = (await ip('-4', '-o', 'addr', 'show')) + (await ip('-4', 'route', 'show'));
  for (let i = 0; i < 240; i++) {
    const third = 10 + ((process.pid + i) % 240);
    if (!used.includes(`10.213.${third}.`)) return `10.213.${third}`;
  }
  throw new Error('no free /24 left in 10.213.0.0/16 for the test network');
}

/**
 * Makes one namespace per name in `hostNames` on a fresh bridge. Fails with a clear message
 * when this process may not (not root, no network namespaces): the caller must not pass
 * by skipping.
 */
export async function createNetwork(hostNames: readonly string[]): Promise<Network> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the multi-host test needs network namespaces (ip netns add), which need root: run it as root (CI does)',
    );
  }
  await removeLeftovers().catch((error: Error) => {
    throw new Error(`network namespaces are not usable here: ${error.message}`);
  });
  const subnet = await freeSubnet();
  const bridge = `${NETNS_PREFIX}${process.pid}b`;
  const made = { namespaces: [] as string[], links: [] as string[] };
  const destroy = async () => {
    for (const ns of made.namespaces) await killInside(ns);
    for (const link of made.links) await ip('link', 'del', link).catch(() => undefined);
    for (const ns of made.namespaces) await ip('netns', 'del', ns).catch(() => undefined);
  };
  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    made.links.push(bridge);
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    const hosts: Record<string, NetnsHost> = {};
    for (const [i, name] of hostNames.entries()) {
      const ns = `${NETNS_PREFIX}-${process.pid}-${name}`;
      await ip('netns', 'add', ns).catch((error: Error) => {
        throw new Error(`network namespaces are not usable here: ${error.message}`);
      });
      made.namespaces.push(ns);
      const veth = `${NETNS_PREFIX}${process.pid}v${i}`;
      await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      made.links.unshift(veth); // veths before the bridge when removing
      await ip('link', 'set', veth, 'master', bridge);
      await ip('link', 'set', veth, 'up');
      const address = `${subnet}.${11 + i}`;
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      hosts[name] = { name, ns, address, wrap: ['ip', 'netns', 'exec', ns] };
    }
    return { gateway: `${subnet}.1`, hosts, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
