import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { hookFor, type FormEvent, type FormPlugin, type PluginContext } from '@formhub/sdk';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import {
  disableIntegration,
  findIntegrationById,
  type CredentialsResolver,
  type WorkerIntegrationRow,
} from '../integrations/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { FailureClocks } from './failure-clock.ts';
import {
  IntegrationCache,
  type CachedIntegration,
  type OpenedIntegration,
} from './integration-cache.ts';
import { MicroBatcher } from './micro-batcher.ts';
import { Pacer } from './pacer.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { StatsCounter } from './stats.ts';
import { nextState, outcomeOfError, type AttemptOutcome, type NextState } from './outcome.ts';
import { AttemptAbort } from './attempt-abort.ts';
import { inAttemptSpan } from './attempt-span.ts';
import type { TraceSpan } from '../tracing/index.ts';
import { loadEvent } from './stored-event.ts';
import { createPluginContext } from './plugin-context.ts';
import { Slots } from './slots.ts';
import {
  claimDeliveries,
  recordAttempts,
  type AttemptRecord,
  type ClaimRequest,
  type ClaimedDelivery,
} from './queries.ts';
import type { DeliveryJob, DeliveryQueue } from './delivery-queue.ts';

export interface EngineDeps {
  db: Database;
  plugins: PluginRegistry;
  secrets: SecretBox;
  queue: DeliveryQueue;
  config: Config;
  logger: Logger;
  dispatcher: Dispatcher;
  credentials: CredentialsResolver;
  /** Where rate-limit slots are reserved: Redis, shared by every worker process. */
  limiter: RateLimiter;
  metrics?: DeliveryMetrics;
  /** Where each logged attempt is counted for the stats API (DeliveryStats). */
  stats?: StatsCounter;
  /** How claims and attempt-log writes are grouped (defaults: 128 items or 2 ms). */
  batch?: { maxSize?: number; maxWaitMs?: number };
  /** How long an integration row read from the database is kept (default 1 s); a claim that sees a newer version reads it again. */
  integrationTtlMs?: number;
  /** Plugin runs (outbound requests) at once, however many jobs are in flight (default 50). */
  maxSending?: number;
}

/**
 * Makes one attempt of one delivery: claims it (so a duplicate or stale job does nothing),
 * runs the integration's plugin hook under the attempt timeout, logs the attempt and moves
 * the delivery on (succeeded, failed with the next attempt queued, or dead). A plugin that
 * throws or hangs costs one failed attempt, never the worker.
 *
 * The PostgreSQL work of concurrent attempts is shared: claims that arrive within a few
 * milliseconds are one statement, and so are the attempt-log writes (MicroBatcher). Each
 * attempt still resolves only once its own log row is committed, so the queue marks a job
 * done only after its attempt is in the log of record. Integration rows are read at most
 * once a second per integration (IntegrationCache), and again whenever a claim shows the
 * row changed.
 */
export class DeliveryEngine {
  private readonly claims: MicroBatcher<ClaimRequest, ClaimedDelivery | undefined>;
  private readonly records: MicroBatcher<AttemptRecord, undefined>;
  private readonly integrations: IntegrationCache;
  private readonly clocks: FailureClocks;
  private readonly sending: Slots;
  private readonly pacer: Pacer;
  private readonly hooks = new WeakMap<
    FormPlugin,
    Map<FormEvent['type'], PluginHook | undefined>
  >();
  /** Hub settings connectors may read (the same object for every attempt, frozen). */
  private readonly settings: Readonly<Record<string, string | undefined>>;

  constructor(private readonly deps: EngineDeps) {
    const { db, config } = deps;
    const batch = { maxSize: deps.batch?.maxSize ?? 128, maxWaitMs: deps.batch?.maxWaitMs ?? 2 };
    // The attempt is bounded by the timeout; the margin covers the log write. A worker
    // that dies holding the lock delays the retry by at most this long.
    const lockMs = config.webhooks.timeoutMs + 10_000;
    this.claims = new MicroBatcher((requests) => claimDeliveries(db, requests, lockMs), batch);
    this.records = new MicroBatcher(async (records) => {
      await recordAttempts(db, records);
      return records.map(() => undefined);
    }, batch);
    this.integrations = new IntegrationCache(
      async (id) => {
        const row = await findIntegrationById(db, id);
        return row ? { row } : undefined;
      },
      { ttlMs: deps.integrationTtlMs },
    );
    this.clocks = new FailureClocks(db, (id, since) =>
      this.integrations.patch(id, { failing_since: since }),
    );
    this.sending = new Slots(deps.maxSending ?? 50);
    this.pacer = new Pacer({
      metrics: deps.metrics,
      db,
      queue: deps.queue,
      limiter: deps.limiter,
      logger: deps.logger,
      batch,
    });
    const { connectors } = config;
    this.settings = Object.freeze({
      SLACK_API_URL: connectors.slackApiUrl,
      GOOGLE_API_ROOT_URL: connectors.googleApiRootUrl,
      SALESFORCE_LOGIN_URL: connectors.salesforceLoginUrl,
    });
  }

  async attempt(job: DeliveryJob): Promise<void> {
    const delivery = await this.claims.add({ id: job.deliveryId, attempt: job.attempt });
    if (!delivery) return;
    return inAttemptSpan(delivery, job, (span) => this.attemptClaimed(job, delivery, span));
  }

  private async attemptClaimed(
    job: DeliveryJob,
    delivery: ClaimedDelivery,
    span: TraceSpan,
  ): Promise<void> {
    const integration =
      current(this.integrations.peek(delivery.integration_id), delivery) ??
      (await this.integration(delivery));
    // Over its rate limit, the delivery waits for its slot: no attempt now, none counted.
    if (!(await this.pacer.admit(delivery.id, integration?.row, job))) return;
    await this.sending.acquire();
    const at = new Date();
    let outcome: AttemptOutcome;
    try {
      outcome = await this.run(delivery, integration, job.attempt);
    } finally {
      this.sending.release();
    }
    const now = new Date();
    // The integration's state first, so that whoever sees the delivery's new state sees it
    // too. A success to a healthy integration changes nothing there (the common case).
    const next =
      outcome.kind === 'success' && !integration?.row.failing_since
        ? this.decide(outcome, job.attempt, now, null, integration?.row)
        : await this.settleIntegration(integration?.row, outcome, job.attempt, now);
    span.setAttributes({
      'formhub.attempt.status_code': outcome.statusCode,
      'formhub.delivery.status': next.status,
    });
    if (outcome.kind !== 'success') span.fail(outcome.error ?? `HTTP ${outcome.statusCode}`);
    await this.records.add({
      deliveryId: delivery.id,
      number: job.attempt,
      at,
      statusCode: outcome.statusCode,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
      excerpt: outcome.excerpt,
      manual: job.manual ?? false,
      status: next.status,
      nextAttemptAt: next.nextAttemptAt,
    });
    this.deps.metrics?.recordAttempt(integration?.row.connector ?? 'unknown', outcome, next.status);
    // Counted once its log row is committed, so the stats never run ahead of the log.
    const [succeeded, dead] = [next.status === 'succeeded', next.status === 'dead'];
    this.deps.stats?.recordAttempt(delivery.integration_id, at, succeeded, dead, outcome.latencyMs);
    if (next.nextAttemptAt) {
      const delayMs = next.nextAttemptAt.getTime() - Date.now();
      await this.deps.queue
        .enqueue([{ deliveryId: delivery.id, attempt: job.attempt + 1, delayMs }])
        .catch((error: Error) =>
          this.deps.logger.warn({ err: error.message }, 'retry not queued; the sweeper will'),
        );
    }
  }

  /** Waits for the claims and log writes already asked for (after the worker has stopped). */
  async drain(): Promise<void> {
    await this.claims.drain();
    await this.pacer.drain();
    await this.records.drain();
  }

  /**
   * The integration as the claim saw it: the cached copy when it is the version the claim
   * read, else read again. So any change committed before the claim (a rotated secret, a
   * webhook turned off or on, deleted) holds for this attempt.
   */
  private async integration(delivery: ClaimedDelivery): Promise<CachedIntegration | undefined> {
    const id = delivery.integration_id;
    const seen = (cached: CachedIntegration | undefined) =>
      (cached?.row.version ?? null) === delivery.integration_version;
    const cached = await this.integrations.get(id);
    if (seen(cached)) return cached;
    // The attempts of a batch that find the same stale copy share one read (it started after
    // their claims, so it is their version unless the row changed again).
    const reread = await this.integrations.reload(id);
    return seen(reread) ? reread : this.integrations.fresh(id);
  }

  private decide(
    outcome: AttemptOutcome,
    attemptNumber: number,
    now: Date,
    failingSince: Date | null,
    integration: WorkerIntegrationRow | undefined,
  ): NextState {
    // The integration's own schedule (DESIGN.md section 4a), else WEBHOOK_RETRY_SCHEDULE.
    const schedule = integration?.retry_schedule_ms ?? this.deps.config.webhooks.retryScheduleMs;
    return nextState(outcome, { schedule, attemptNumber, now, failingSince });
  }

  /**
   * Moves the failure clock and decides the delivery's next state. The clock is written only
   * when it changes: it starts at the first failure and is cleared by a success. Disabling
   * after 5 days is checked against the database first, since the cached clock may be a
   * second old.
   */
  private async settleIntegration(
    integration: WorkerIntegrationRow | undefined,
    outcome: AttemptOutcome,
    attemptNumber: number,
    now: Date,
  ): Promise<NextState> {
    const { db } = this.deps;
    if (!integration) return this.decide(outcome, attemptNumber, now, null, undefined);
    const id = integration.id;
    if (outcome.kind === 'success') {
      if (integration.failing_since) await this.clocks.stop(id);
      return this.decide(outcome, attemptNumber, now, null, integration);
    }
    let next = this.decide(
      outcome,
      attemptNumber,
      now,
      integration.failing_since ?? (await this.clocks.start(id, now)),
      integration,
    );
    if (next.disable && outcome.kind !== 'gone') {
      next = this.decide(
        outcome,
        attemptNumber,
        now,
        await this.clocks.confirm(id, now),
        integration,
      );
    }
    if (next.disable) {
      await disableIntegration(db, id, next.disable, integration.connector === 'zapier');
      this.integrations.forget(id);
    }
    return next;
  }

  private async run(
    delivery: ClaimedDelivery,
    integration: CachedIntegration | undefined,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const row = integration?.row;
    if (!integration || !row || row.deleted || !row.active) {
      const reason =
        !row || row.deleted ? 'the integration was deleted' : 'the integration is disabled';
      return { kind: 'permanent', statusCode: 0, latencyMs: 0, error: reason, excerpt: null };
    }
    const loaded = this.deps.plugins.get(row.connector);
    if (!loaded) {
      return outcomeOfError(new Error(`connector "${row.connector}" is not loaded`), undefined, 0);
    }
    // Written with the delivery and deleted with it: missing only if the row was lost.
    if (!delivery.payload) {
      const error = 'the delivery has no stored payload';
      return { kind: 'permanent', statusCode: 0, latencyMs: 0, error, excerpt: null };
    }
    const event = loadEvent(delivery.payload);
    const hook = this.hook(loaded.plugin, event.type);
    if (!hook) return { kind: 'success', statusCode: 0, latencyMs: 0, error: null, excerpt: null };
    const abort = new AttemptAbort();
    let exchanges: { statusCode: number; excerpt: string }[] = [];
    try {
      const opened = this.open(integration);
      // Each attempt gets its own copy: a plugin that changes its config changes no other attempt.
      const config = cloneJson(opened.config);
      const { ctx, exchanges: recorded } = createPluginContext({
        event,
        config,
        credentials: await this.deps.credentials(row, config),
        integration: row,
        resolveCredentials: this.deps.credentials,
        deliveryId: delivery.id,
        integrationId: row.id,
        attempt,
        signingSecrets: signingSecrets(opened),
        settings: this.settings,
        dispatcher: this.deps.dispatcher,
        abort,
        logger: this.deps.logger,
      });
      exchanges = recorded;
      // A hook that throws synchronously or returns no promise is handled like any other.
      let work: Promise<void>;
      try {
        work = Promise.resolve(hook(event, ctx));
      } catch (error) {
        work = Promise.reject(error);
      }
      await withTimeout(work, this.deps.config.webhooks.timeoutMs, abort);
      const last = exchanges[exchanges.length - 1];
      const latencyMs = Math.round(performance.now() - started);
      return {
        kind: 'success',
        statusCode: last?.statusCode ?? 0,
        latencyMs,
        error: null,
        excerpt: last?.excerpt ?? null,
      };
    } catch (error) {
      return outcomeOfError(
        error,
        exchanges[exchanges.length - 1],
        Math.round(performance.now() - started),
      );
    }
  }

  /** The plugin's hook for an event type, bound once per plugin and type. */
  private hook(plugin: FormPlugin, type: FormEvent['type']): PluginHook | undefined {
    let hooks = this.hooks.get(plugin);
    if (!hooks) {
      hooks = new Map();
      this.hooks.set(plugin, hooks);
    }
    if (!hooks.has(type))
      hooks.set(
        type,
        hookFor<Record<string, unknown>>(plugin as FormPlugin<Record<string, unknown>>, type),
      );
    return hooks.get(type);
  }

  /** The integration's config and secrets, decrypted once per cached row (a failure is an attempt's error). */
  private open(integration: CachedIntegration): OpenedIntegration {
    if (integration.opened) return integration.opened;
    const { secrets } = this.deps;
    const { row } = integration;
    const previous =
      row.previous_secret_sealed && row.previous_secret_expires_at
        ? {
            secret: secrets.open(row.previous_secret_sealed),
            expiresAt: row.previous_secret_expires_at,
          }
        : null;
    integration.opened = {
      config: secrets.openJson<Record<string, unknown>>(row.config_sealed),
      secret: row.secret_sealed ? secrets.open(row.secret_sealed) : null,
      previous,
    };
    return integration.opened;
  }
}

type PluginHook = (event: FormEvent, ctx: PluginContext) => Promise<void>;

/** The cached integration when it may be delivered to (active, not deleted) and is the version the claim saw. */
function current(
  cached: CachedIntegration | undefined,
  delivery: ClaimedDelivery,
): CachedIntegration | undefined {
  return cached?.row.active &&
    !cached.row.deleted &&
    cached.row.version === delivery.integration_version
    ? cached
    : undefined;
}

/** A copy of a JSON value (configs are decrypted JSON), cheaper than structuredClone. */
function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    copy[key] = cloneJson((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** The secrets that sign now: the current one, and the previous one during its grace period. */
function signingSecrets(opened: OpenedIntegration): string[] {
  const list: string[] = [];
  if (opened.secret) list.push(opened.secret);
  if (opened.previous && opened.previous.expiresAt > new Date()) list.push(opened.previous.secret);
  return list;
}

/**
 * Settles as `work` does, or rejects when it takes longer than `ms`, aborting the attempt.
 * A hook that finishes after its timeout changes nothing and cannot crash the process.
 */
function withTimeout(work: Promise<void>, ms: number, abort: AttemptAbort): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(timedOut, ms, ms, abort, reject);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function timedOut(ms: number, abort: AttemptAbort, reject: (error: Error) => void): void {
  const error = Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
  abort.abort(error);
  reject(error);
}
