import type { Credentials } from './context.ts';
import type { FormEvent } from './events.ts';
import { runPlugin, sampleEvent, type HarnessResult } from './harness.ts';
import {
  hasWriteOnly,
  metadataProblems,
  writeOnlySecrets,
  type ConfigSecret,
} from './metadata-problems.ts';
import type { FormPlugin } from './plugin.ts';

/**
 * How a fake service answers: `ok` as the real service does on success; `4xx` a refusal
 * of the request itself (a validation error, an unknown channel: whatever that service
 * sends, a 400 or Slack's `{"ok":false}`), never a 401, which means "refresh the token";
 * `429` rate limiting with `Retry-After`; `5xx` an outage; `hang` accepts the request and
 * never answers.
 */
export type FakeAnswer = 'ok' | '4xx' | '429' | '5xx' | 'hang';

/** A local fake of a connector's service, as the contract drives it. */
export interface ServiceFake {
  /** Where it listens, without a trailing slash: `http://127.0.0.1:54321`. */
  baseUrl: string;
  /** Answer every request from now on this way (a fake starts with `ok`). */
  respondWith(answer: FakeAnswer): void;
  /** How many requests it has received so far. */
  received(): number;
  /** Stops listening and drops open connections, hung ones included. */
  close(): Promise<void>;
}

/** How to run one connector against a fake of its service. */
export interface ConnectorFixture<Config = Record<string, unknown>> {
  /** A fresh plugin for each check. */
  plugin: () => FormPlugin<Config>;
  /** Starts a fake of the service (one per check; it is closed afterwards). */
  start: () => Promise<ServiceFake>;
  /**
   * The integration config that points the connector at the fake. Give every `writeOnly`
   * property a distinctive value: the leak check looks for those values.
   */
  config: (baseUrl: string) => Config;
  /** `ctx.settings`, e.g. `{ SLACK_API_URL: `${baseUrl}/api/` }`. */
  settings?: (baseUrl: string) => Record<string, string | undefined>;
  /** `ctx.credentials`; by default what the hub derives from the config's `token` and `instance_url`. */
  credentials?: (baseUrl: string) => Credentials;
  /** `ctx.signingSecrets` (a connector that signs needs one). */
  signingSecrets?: string[];
  /** The event of the success and failure checks (default `sampleEvent()`). */
  event?: FormEvent;
  /** The attempt timeout of the hang check (default 300 ms). */
  timeoutMs?: number;
  /**
   * Set, with the reason, for a connector whose service's 4xx answers are retried by design
   * (webhooks retry every status but 410). The 4xx check then asks only for a failure.
   */
  clientErrorsRetried?: string;
}

/** One named check; `run` rejects with a plain explanation when the connector fails it. */
export interface ContractCase {
  name: string;
  run: () => Promise<void>;
}

/** The attempt timeout of every check but the hang: long enough for a fake, short enough to fail fast. */
const CHECK_TIMEOUT_MS = 5_000;
/** How much later than its timeout a hung attempt may end. */
const HANG_SLACK_MS = 2_000;

/**
 * The checks every formhub connector passes (STYLE.md, rule 9), as plain async functions
 * so that any test runner can run them: well-formed metadata and config schema; success
 * against a healthy service (the hook returns and the service got the call), a `ping`
 * too; a 4xx fails for good (PermanentError or GoneError) unless `clientErrorsRetried`
 * says why not; a 429 and a 5xx fail and are retried (any error but those two); a hang
 * fails the attempt at the timeout without crashing the process; and no failure's error
 * or log line contains a secret (a `writeOnly` config value, the access token, a
 * signing secret). Errors are classified by `name`, as the hub does.
 *
 * @example
 * for (const check of connectorContract({ plugin: () => new Echo(), start: () => startFakeService(),
 *   config: (base) => ({ url: `${base}/in`, token: 'contract-secret' }) })) {
 *   it(check.name, check.run);
 * }
 */
export function connectorContract<Config>(fixture: ConnectorFixture<Config>): ContractCase[] {
  const clientError = fixture.clientErrorsRetried
    ? `a 4xx refusal fails the attempt (retried by design: ${fixture.clientErrorsRetried})`
    : 'a 4xx refusal fails for good (PermanentError or GoneError)';
  return [
    { name: 'metadata and config schema are well formed', run: () => checkMetadata(fixture) },
    {
      name: 'a sample event succeeds against a healthy service',
      run: () => checkSuccess(fixture, fixture.event ?? sampleEvent()),
    },
    {
      name: 'a test event (ping) succeeds against a healthy service',
      run: () => checkSuccess(fixture, sampleEvent({ type: 'ping' })),
    },
    { name: clientError, run: () => checkClientError(fixture) },
    {
      name: 'a 429 fails and is retried, not dead-lettered',
      run: () => checkRetried(fixture, '429'),
    },
    {
      name: 'a 5xx fails and is retried, not dead-lettered',
      run: () => checkRetried(fixture, '5xx'),
    },
    {
      name: 'a hang fails the attempt at the timeout without crashing',
      run: () => checkHang(fixture),
    },
    { name: 'failures never reveal secrets in errors or logs', run: () => checkNoLeaks(fixture) },
  ];
}

/** Runs the plugin once against a fresh fake answering `answer`, then closes the fake. */
async function attempt<C>(
  fixture: ConnectorFixture<C>,
  answer: FakeAnswer,
  options: { event?: FormEvent; timeoutMs?: number } = {},
): Promise<{
  result: HarnessResult;
  received: number;
  elapsedMs: number;
  config: C;
  credentials: Credentials;
}> {
  const fake = await fixture.start();
  try {
    fake.respondWith(answer);
    const config = fixture.config(fake.baseUrl);
    const credentials = fixture.credentials?.(fake.baseUrl) ?? credentialsFromConfig(config);
    const started = Date.now();
    const result = await runPlugin(fixture.plugin(), {
      config,
      credentials,
      event: options.event ?? fixture.event,
      settings: fixture.settings?.(fake.baseUrl),
      signingSecrets: fixture.signingSecrets,
      timeoutMs: options.timeoutMs ?? CHECK_TIMEOUT_MS,
    });
    return {
      result,
      received: fake.received(),
      elapsedMs: Date.now() - started,
      config,
      credentials,
    };
  } finally {
    await fake.close();
  }
}

/** What the hub passes when an integration has no Nango connection (its config's token). */
function credentialsFromConfig(config: unknown): Credentials {
  const c = (config ?? {}) as { token?: unknown; instance_url?: unknown };
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return { accessToken: text(c.token), instanceUrl: text(c.instance_url) };
}

function fail(message: string): never {
  throw new Error(message);
}

function outcome(result: HarnessResult): string {
  return result.ok
    ? 'success'
    : `${result.error?.name ?? 'Error'}: ${result.error?.message ?? String(result.error)}`;
}

function isFinal(result: HarnessResult): boolean {
  return result.error?.name === 'PermanentError' || result.error?.name === 'GoneError';
}

async function checkMetadata<C>(fixture: ConnectorFixture<C>): Promise<void> {
  const problems = metadataProblems(fixture.plugin().metadata);
  if (problems.length > 0) fail(`the metadata is not well formed:\n- ${problems.join('\n- ')}`);
}

async function checkSuccess<C>(fixture: ConnectorFixture<C>, event: FormEvent): Promise<void> {
  const { result, received } = await attempt(fixture, 'ok', { event });
  if (!result.ok) {
    fail(
      `expected success against a healthy service for a ${event.type} event, got ${outcome(result)}`,
    );
  }
  if (event.type !== 'ping' && received === 0) {
    fail(`the hook returned without calling the service for a ${event.type} event`);
  }
}

async function checkClientError<C>(fixture: ConnectorFixture<C>): Promise<void> {
  const { result, received } = await attempt(fixture, '4xx');
  if (received === 0) fail('the service was never called, so its refusal was never seen');
  if (result.ok) {
    fail(
      'the service refused the request (4xx) but the hook succeeded: the response would be lost silently',
    );
  }
  if (!fixture.clientErrorsRetried && !isFinal(result)) {
    fail(
      `a 4xx refusal must throw PermanentError or GoneError (retrying cannot help), got ${outcome(result)}`,
    );
  }
}

async function checkRetried<C>(fixture: ConnectorFixture<C>, answer: '429' | '5xx'): Promise<void> {
  const { result, received } = await attempt(fixture, answer);
  if (received === 0) fail(`the service was never called, so its ${answer} was never seen`);
  if (result.ok) fail(`the service answered ${answer} but the hook succeeded`);
  if (isFinal(result)) fail(`a ${answer} is temporary and must be retried, got ${outcome(result)}`);
}

async function checkHang<C>(fixture: ConnectorFixture<C>): Promise<void> {
  const timeoutMs = fixture.timeoutMs ?? 300;
  const crashes: unknown[] = [];
  const record = (reason: unknown) => void crashes.push(reason);
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  try {
    const { result, received, elapsedMs } = await attempt(fixture, 'hang', { timeoutMs });
    // Closing the fake released the hung request: give a stray rejection time to surface.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (received === 0) fail('the service was never called, so the hang was never seen');
    if (result.ok) fail('the service never answered but the hook succeeded');
    if (isFinal(result)) fail(`a timeout is temporary and must be retried, got ${outcome(result)}`);
    if (elapsedMs > timeoutMs + HANG_SLACK_MS) {
      fail(`the attempt took ${elapsedMs} ms for a ${timeoutMs} ms timeout`);
    }
  } finally {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
  }
  if (crashes.length > 0) fail(`the hang left an unhandled error behind: ${String(crashes[0])}`);
}

async function checkNoLeaks<C>(fixture: ConnectorFixture<C>): Promise<void> {
  const schema = fixture.plugin().metadata.configSchema;
  for (const answer of ['4xx', '429', '5xx'] as const) {
    const { result, config, credentials } = await attempt(fixture, answer);
    const secrets = secretsOf(
      writeOnlySecrets(schema, config),
      credentials,
      fixture.signingSecrets,
    );
    if (hasWriteOnly(schema) && !secrets.some((s) => s.path.startsWith('config.'))) {
      fail(
        'the schema has writeOnly properties but the fixture config sets none of them: there is nothing to look for',
      );
    }
    const text = revealed(result);
    const leaked = secrets.find((secret) => text.includes(secret.value));
    if (leaked) {
      fail(`after a ${answer}, the value of ${leaked.path} appears in the error or the logs`);
    }
  }
}

/** Every secret of one run, named by where it came from. */
function secretsOf(
  fromConfig: ConfigSecret[],
  credentials: Credentials,
  signingSecrets: string[] = [],
): ConfigSecret[] {
  const secrets = fromConfig.map(({ path, value }) => ({ path: `config.${path}`, value }));
  if (credentials.accessToken) {
    secrets.push({ path: 'credentials.accessToken', value: credentials.accessToken });
  }
  for (const [i, value] of signingSecrets.entries()) {
    if (value) secrets.push({ path: `signingSecrets[${i}]`, value });
  }
  return secrets;
}

/** What of a run reaches the attempt log or the hub's logs: the error chain and the log lines. */
function revealed(result: HarnessResult): string {
  const parts: string[] = [];
  let error: unknown = result.error;
  for (let depth = 0; error !== undefined && error !== null && depth < 5; depth += 1) {
    const e = error as {
      name?: unknown;
      message?: unknown;
      stack?: unknown;
      code?: unknown;
      cause?: unknown;
    };
    parts.push(String(e.name), String(e.message), String(e.stack), String(e.code));
    error = e.cause;
  }
  for (const line of result.logs) {
    parts.push(line.message);
    try {
      parts.push(JSON.stringify(line.fields ?? {}));
    } catch {
      parts.push(String(line.fields));
    }
  }
  return parts.join('\n');
}
