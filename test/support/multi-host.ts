/**
 * The hosts of the multi-host tests (DESIGN.md section 4c): two `formhub api`, two
 * `formhub worker` and a webhook receiver, each a process on a host of its own, sharing
 * one PostgreSQL and one Redis. Two topologies run the same checks
 * (test/support/multi-host-suite.ts):
 *
 * - `netnsTopology`: each host a network namespace on a bridge (test/support/netns.ts);
 *   PostgreSQL and Redis, which listen on loopback only, are reached through forwarders
 *   on the root namespace's bridge address;
 * - `sameHostTopology`: every process on 127.0.0.1 of this machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';
import { ADMIN_DATABASE_URL } from './database.ts';
import { createNetwork } from './netns.ts';
import { BIN, childEnv, freePort } from './process.ts';
import type { ReceivedHit } from './receiver-host.ts';
import { startForwarder } from './tcp-forwarder.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECEIVER_SCRIPT = fileURLToPath(new URL('./receiver-host.ts', import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const ROLES = ['api-a', 'api-b', 'worker-a', 'worker-b', 'receiver'] as const;
export type Role = (typeof ROLES)[number];

export interface Host {
  role: Role;
  /** Where the test and the other hosts reach this host. */
  address: string;
  /** Put before a command to run it on this host (empty on the same host). */
  wrap: readonly string[];
  /**
   * Whether the host's DATA_DIR is a disk of its own (a tmpfs mounted in the mount namespace
   * that `ip netns exec` gives the process), which no other host can read. On one host
   * every process can read every file.
   */
  privateDisk: boolean;
}

export interface Topology {
  kind: 'netns' | 'same-host';
  hosts: Record<Role, Host>;
  /** What a listening process on a host binds to. */
  listenHost: string;
  /** The hub's DATABASE_URL for the test database at `url` (as the test reaches it). */
  databaseUrl(url: string): string;
  /** The hub's REDIS_URL. */
  redisUrl: string;
  /** A port for a listening process on `role`'s host. */
  port(role: Role): Promise<number>;
  /** Which role sent `hit`, while its connection is still open (same host: by its socket's pid). */
  senderOf(hit: ReceivedHit, pids: ReadonlyMap<number, Role>): Promise<Role | undefined>;
  close(): Promise<void>;
}

/** Every role on a network namespace of its own; PostgreSQL and Redis behind forwarders. */
export async function netnsTopology(): Promise<Topology> {
  const network = await createNetwork(ROLES);
  const forwarders: { close(): Promise<void> }[] = [];
  try {
    const pgUrl = new URL(ADMIN_DATABASE_URL);
    const redisUrl = new URL(REDIS_URL);
    const pgForwarder = await startForwarder(network.gateway, {
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
    });
    forwarders.push(pgForwarder);
    const redisForwarder = await startForwarder(network.gateway, {
      host: redisUrl.hostname,
      port: Number(redisUrl.port || 6379),
    });
    forwarders.push(redisForwarder);
    const hosts = Object.fromEntries(
      ROLES.map((role) => {
        const host = network.hosts[role]!;
        return [role, { role, address: host.address, wrap: host.wrap, privateDisk: true }];
      }),
    ) as Record<Role, Host>;
    const viaForwarder = new URL(REDIS_URL);
    viaForwarder.hostname = network.gateway;
    viaForwarder.port = String(redisForwarder.port);
    return {
      kind: 'netns',
      hosts,
      listenHost: '0.0.0.0',
      databaseUrl(url) {
        const rewritten = new URL(url);
        rewritten.hostname = network.gateway;
        rewritten.port = String(pgForwarder.port);
        return rewritten.toString();
      },
      redisUrl: viaForwarder.toString(),
      // Each host has its own network stack: the same port on every one is free.
      port: async () => 8080,
      senderOf: async (hit) => ROLES.find((role) => hosts[role].address === hit.from),
      async close() {
        await network.destroy();
        for (const forwarder of forwarders) await forwarder.close();
      },
    };
  } catch (error) {
    for (const forwarder of forwarders) await forwarder.close();
    await network.destroy();
    throw error;
  }
}

/** Every role a process on 127.0.0.1 of this machine. */
export async function sameHostTopology(): Promise<Topology> {
  const hosts = Object.fromEntries(
    ROLES.map((role): [Role, Host] => [
      role,
      { role, address: '127.0.0.1', wrap: [], privateDisk: false },
    ]),
  ) as Record<Role, Host>;
  return {
    kind: 'same-host',
    hosts,
    listenHost: '127.0.0.1',
    databaseUrl: (url) => url,
    redisUrl: REDIS_URL,
    port: () => freePort(),
    async senderOf(hit, pids) {
      // The sender's socket is the one whose local port is the hit's remote port.
      const { stdout } = await promisify(execFile)(
        'ss',
        ['-Htnp', 'state', 'established', `( sport = :${hit.fromPort} )`],
        { encoding: 'utf8' },
      );
      for (const match of stdout.matchAll(/pid=(\d+)/g)) {
        const role = pids.get(Number(match[1]));
        if (role) return role;
      }
      return undefined;
    },
    close: async () => undefined,
  };
}

/** A process the test started on a host; in a process group of its own. */
export interface HostProcess {
  role: Role;
  pid: number;
  output(): string;
  alive(): boolean;
  /** Sends `signal` to the process's whole group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<void>;
}

function spawnOnHost(
  host: Host,
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  dataDir?: string,
): HostProcess {
  // `ip netns exec` runs the command in a mount namespace of its own: a tmpfs mounted there
  // on DATA_DIR is this host's disk alone, as on separate machines.
  const disk =
    dataDir && host.privateDisk
      ? [
          'sh',
          '-c',
          'mkdir -p "$0" && mount -t tmpfs -o mode=0700 formhub-data "$0" && exec "$@"',
          dataDir,
        ]
      : [];
  const [file, ...args] = [...host.wrap, ...disk, ...command];
  const child: ChildProcess = spawn(file!, args, { cwd: ROOT, env, detached: true });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is gone already: nothing to signal.
    }
  };
  return {
    role: host.role,
    pid: child.pid!,
    output: () => output,
    alive,
    signal,
    exited,
    async stop(graceMs = 10_000) {
      if (!alive()) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` until true; throws `what` after `timeoutMs`, or early when `process` died. */
async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  process?: HostProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (process && !process.alive())
      throw new Error(`${what}: the process exited: ${process.output().slice(-3000)}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms. ${process?.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `formhub <mode>` on `host` and waits until it runs (api: /readyz answers 200). */
export async function startFormhub(
  host: Host,
  mode: 'api' | 'worker',
  env: Record<string, string>,
  port: number,
  timeoutMs = 90_000,
): Promise<HostProcess> {
  // Info level for the one line that says the process runs; the rest stays quiet enough.
  const started = spawnOnHost(
    host,
    [process.execPath, ...STARTUP_V8_FLAGS, BIN, mode],
    childEnv({ ...env, PORT: String(port), LOG_LEVEL: 'info' }),
    env.DATA_DIR,
  );
  const ready =
    mode === 'api'
      ? () =>
          fetch(`http://${host.address}:${port}/readyz`).then(
            (r) => r.ok,
            () => false,
          )
      : async () => started.output().includes('"msg":"formhub is running"');
  await until(ready, timeoutMs, `formhub ${mode} on ${host.role}`, started);
  return started;
}

/** The receiver of test/support/receiver-host.ts on `host`, and how the test talks to it. */
export interface ReceiverHost {
  process: HostProcess;
  base: string;
  records(): Promise<ReceivedHit[]>;
  hold(ms: number): Promise<void>;
}

export async function startReceiverHost(topology: Topology): Promise<ReceiverHost> {
  const host = topology.hosts.receiver;
  const port = await topology.port('receiver');
  const started = spawnOnHost(host, [process.execPath, '--import', 'tsx', RECEIVER_SCRIPT], {
    ...process.env,
    RECEIVER_PORT: String(port),
    RECEIVER_HOST: topology.listenHost,
  });
  await until(
    async () => started.output().includes('RECEIVER_READY'),
    30_000,
    'the receiver',
    started,
  );
  const base = `http://${host.address}:${port}`;
  return {
    process: started,
    base,
    records: async () => (await (await fetch(`${base}/_records`)).json()) as ReceivedHit[],
    hold: async (ms) => {
      const res = await fetch(`${base}/_delay?ms=${ms}`, { method: 'POST' });
      if (res.status !== 204) throw new Error(`receiver /_delay answered ${res.status}`);
    },
  };
}
