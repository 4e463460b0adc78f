/**
 * A PROTOTYPE, for measurement only (bench/delivery.ts, phase `engine-batched`): the delivery
 * engine's attempt with its PostgreSQL work batched across concurrent attempts, to size the
 * proposal in docs/benchmarks/delivery-analytics.md. It is not used by the hub.
 *
 * Same semantics as src/delivery/engine.ts, fewer round trips and commits:
 * - claims: the same conditional UPDATE, for all the attempts that arrive within `maxWaitMs`
 *   (one statement, one commit per batch instead of one per attempt);
 * - the integration row: read once per second per integration (in-process cache);
 * - markHealthy: only issued when the cached row says the integration is failing;
 * - the attempt log: the same INSERT + UPDATE, set-based, one statement per batch.
 * The plugin run (plugin context, signing, HTTP, timeout) is the real engine's own. Failure
 * bookkeeping (markFailing, disabling after 410 or 5 days) is left out: the throughput run
 * it is measured on has no failures.
 */

import type { Logger } from 'pino';
import type { Config } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { nextState, type AttemptOutcome, type DeliveryEngine, type DeliveryJob, type DeliveryQueue } from '../../src/delivery/index.ts';

interface DeliveryRow {
  id: string;
  integration_id: string;
  payload: Record<string, unknown>;
  attempts: number;
}

interface IntegrationLike {
  id: string;
  connector: string;
  failing_since: Date | null;
}

interface AttemptRecord {
  deliveryId: string;
  number: number;
  at: Date;
  outcome: AttemptOutcome;
  manual: boolean;
  status: string;
  nextAttemptAt: Date | null;
}

/** Collects items for up to `maxWaitMs` (or `maxSize` items) and runs them as one batch. */
class Batcher<I, O> {
  private items: I[] = [];
  private waiters: { resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxWaitMs: number,
    private readonly maxSize: number,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    if (items.length === 0) return;
    this.run(items).then(
      (out) => waiters.forEach((w, i) => w.resolve(out[i]!)),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }
}

const COLUMNS = 'd.id, d.integration_id, d.payload, d.attempts';

export class BatchedEngine {
  private readonly claims: Batcher<{ id: string; attempt: number }, DeliveryRow | undefined>;
  private readonly records: Batcher<AttemptRecord, void>;
  private readonly integrations = new Map<string, { at: number; row: Promise<IntegrationLike | undefined> }>();
  /** Statements and batches issued, for the report. */
  readonly counts = { claimBatches: 0, claimed: 0, recordBatches: 0, recorded: 0, integrationReads: 0, markHealthy: 0 };

  constructor(
    private readonly db: Database,
    private readonly real: DeliveryEngine,
    private readonly queue: DeliveryQueue,
    private readonly config: Config,
    private readonly logger: Logger,
    maxWaitMs = 2,
    maxSize = 64,
  ) {
    this.claims = new Batcher((items) => this.claimBatch(items), maxWaitMs, maxSize);
    this.records = new Batcher((items) => this.recordBatch(items), maxWaitMs, maxSize);
  }

  async attempt(job: DeliveryJob): Promise<void> {
    const delivery = await this.claims.add({ id: job.deliveryId, attempt: job.attempt });
    if (!delivery) return;
    const integration = await this.integration(delivery.integration_id);
    const at = new Date();
    const run = Reflect.get(this.real, 'run') as (d: unknown, i: unknown, a: number) => Promise<AttemptOutcome>;
    const outcome = await run.call(this.real, delivery, integration, job.attempt);
    const now = new Date();
    const next = nextState(outcome, {
      schedule: this.config.webhooks.retryScheduleMs,
      attemptNumber: job.attempt,
      now,
      failingSince: outcome.kind === 'success' ? null : (integration?.failing_since ?? now),
    });
    if (integration && outcome.kind === 'success' && integration.failing_since) {
      this.counts.markHealthy++;
      await this.db.query('UPDATE integrations SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [
        integration.id,
      ]);
    }
    await this.records.add({
      deliveryId: delivery.id,
      number: job.attempt,
      at,
      outcome,
      manual: job.manual ?? false,
      status: next.status,
      nextAttemptAt: next.nextAttemptAt,
    });
    if (next.nextAttemptAt) {
      const delayMs = next.nextAttemptAt.getTime() - Date.now();
      await this.queue
        .enqueue([{ deliveryId: delivery.id, attempt: job.attempt + 1, delayMs }])
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'retry not queued'));
    }
  }

  private integration(id: string): Promise<IntegrationLike | undefined> {
    const cached = this.integrations.get(id);
    if (cached && Date.now() - cached.at < 1_000) return cached.row;
    this.counts.integrationReads++;
    const row = this.db
      .query<IntegrationLike>(
        `SELECT id, workspace_id, form_id, connector, events, config_sealed, secret_sealed, previous_secret_sealed,
           previous_secret_expires_at, connection_id, provider_config_key, active, disabled_reason, failing_since,
           created_at, updated_at, deleted_at IS NOT NULL AS deleted FROM integrations WHERE id = $1`,
        [id],
      )
      .then((r) => r.rows[0]);
    this.integrations.set(id, { at: Date.now(), row });
    return row;
  }

  private async claimBatch(items: { id: string; attempt: number }[]): Promise<(DeliveryRow | undefined)[]> {
    this.counts.claimBatches++;
    const lockMs = this.config.webhooks.timeoutMs + 10_000;
    const { rows } = await this.db.query<DeliveryRow & { claimed_attempt: number }>(
      `UPDATE deliveries d SET locked_until = now() + $3 * interval '1 millisecond'
       FROM unnest($1::uuid[], $2::integer[]) AS u(id, attempt)
       WHERE d.id = u.id AND d.attempts = u.attempt - 1 AND d.status IN ('pending', 'failed')
         AND (d.locked_until IS NULL OR d.locked_until < now())
       RETURNING ${COLUMNS}, u.attempt AS claimed_attempt`,
      [items.map((i) => i.id), items.map((i) => i.attempt), lockMs],
    );
    this.counts.claimed += rows.length;
    const won = new Map(rows.map((r) => [`${r.id}/${r.claimed_attempt}`, r]));
    // A delivery listed twice in one batch is claimed once: the first asker gets it.
    return items.map((i) => {
      const key = `${i.id}/${i.attempt}`;
      const row = won.get(key);
      won.delete(key);
      return row;
    });
  }

  private async recordBatch(items: AttemptRecord[]): Promise<void[]> {
    this.counts.recordBatches++;
    this.counts.recorded += items.length;
    await this.db.query(
      `WITH u AS (
         SELECT * FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::integer[], $5::integer[], $6::text[],
           $7::text[], $8::boolean[], $9::text[], $10::timestamptz[])
           AS u(delivery_id, number, at, status_code, latency_ms, error, excerpt, manual, status, next_attempt_at)
       ), logged AS (
         INSERT INTO delivery_attempts (delivery_id, number, at, status_code, latency_ms, error, response_excerpt, manual)
         SELECT delivery_id, number, at, status_code, latency_ms, error, excerpt, manual FROM u
         ON CONFLICT (delivery_id, number) DO NOTHING
       )
       UPDATE deliveries d SET status = u.status, attempts = u.number, next_attempt_at = u.next_attempt_at,
         locked_until = NULL, updated_at = u.at
       FROM u WHERE d.id = u.delivery_id`,
      [
        items.map((a) => a.deliveryId),
        items.map((a) => a.number),
        items.map((a) => a.at.toISOString()),
        items.map((a) => a.outcome.statusCode),
        items.map((a) => a.outcome.latencyMs),
        items.map((a) => a.outcome.error),
        items.map((a) => a.outcome.excerpt),
        items.map((a) => a.manual),
        items.map((a) => a.status),
        items.map((a) => a.nextAttemptAt?.toISOString() ?? null),
      ],
    );
    return items.map(() => undefined);
  }
}
