import { createRequire } from 'node:module';
import net from 'node:net';
import { ADMIN_DATABASE_URL } from './database.ts';
import { startHub, type TestHub } from './hub.ts';

// The Zapier app is CommonJS (connectors/zapier/app/package.json says so): load it, core and
// the schema through require so that all share the one CJS module instance.
const require = createRequire(import.meta.url);

export type Perform = (...args: never[]) => unknown;
/** What a step of the app holds that a test runs: functions, or arrays of fields/functions. */
export type Runnable = Perform | unknown[];
export interface ZapierOperation {
  [name: string]: Runnable;
}
export interface ZapierApp {
  version: string;
  platformVersion: string;
  authentication: { test: Perform; connectionLabel: Perform };
  triggers: Record<string, { operation: ZapierOperation }>;
  searches: Record<string, { operation: ZapierOperation }>;
  creates: Record<string, { operation: ZapierOperation }>;
  searchOrCreates: Record<string, { search: string; create: string }>;
}
export type AppTester = (method: Runnable, bundle?: Record<string, unknown>) => Promise<unknown>;
export interface ZapierCore {
  version: string;
  createAppTester(app: object): AppTester;
  createAppHandler(app: object): (event: { command: string }) => Promise<{ results: unknown }>;
}
export interface ZapierSchema {
  validateAppDefinition(definition: unknown): {
    errors: { property: string; message: string }[];
  };
}

export const App = require('../../connectors/zapier/app/index.js') as ZapierApp;
export const zapierCore = require('zapier-platform-core') as ZapierCore;
export const zapierSchema = require('zapier-platform-schema') as ZapierSchema;

/** A hub with its worker listening on 127.0.0.1, for the app's HTTP client to call. */
export async function startListeningHub(): Promise<{ hub: TestHub; baseUrl: string }> {
  const hub = await startHub(
    { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms' },
    { worker: true },
  );
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  const address = hub.app.server.address();
  if (!address || typeof address === 'string') throw new Error('hub has no TCP address');
  return { hub, baseUrl: `http://127.0.0.1:${address.port}` };
}

/**
 * Records the host of every TCP connection the process opens, so that a test can assert that
 * the app (and core) never left the machine. Also unsets LOGGING_TOKEN: core streams its logs
 * to Zapier only with a token, and createAppTester sends none.
 */
export function recordConnections(): { hosts: Set<string>; nonLocal(): string[]; stop(): void } {
  delete process.env.LOGGING_TOKEN;
  const hosts = new Set<string>();
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    let first = args[0];
    if (Array.isArray(first)) first = first[0];
    if (typeof first === 'object' && first) {
      const o = first as { host?: string; path?: string };
      if (!o.path) hosts.add(o.host ?? 'localhost');
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      hosts.add(typeof args[1] === 'string' ? args[1] : 'localhost');
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof originalConnect;
  const allowed = new Set(['127.0.0.1', 'localhost', '::1', new URL(ADMIN_DATABASE_URL).hostname]);
  if (process.env.TEST_REDIS_URL) allowed.add(new URL(process.env.TEST_REDIS_URL).hostname);
  return {
    hosts,
    nonLocal: () => [...hosts].filter((h) => !allowed.has(h)),
    stop: () => {
      net.Socket.prototype.connect = originalConnect;
    },
  };
}
