import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { emptyHistogram, latencyBucket } from './stats-histogram.ts';
import { pruneStats, upsertStats, type StatsCell } from './stats-queries.ts';

/** The width of a stats row: 7 days are 2,016 rows per integration at most. */
export const STATS_BUCKET_MS = 5 * 60_000;
/** Rows older than the longest window (7 days, in 6-hour buckets) and a margin are pruned. */
export const STATS_KEEP_MS = 8 * 86_400_000;

/** What the engine and the relay count into (DeliveryStats, or nothing). */
export interface StatsCounter {
  /** One logged attempt: `at` its start (as in the attempt log), dead when it killed the delivery. */
  recordAttempt(
    integrationId: string,
    at: Date,
    succeeded: boolean,
    dead: boolean,
    latencyMs: number,
  ): void;
  /** Events an integration's condition kept from it (no delivery made). */
  recordFiltered(integrationId: string, count: number, at?: Date): void;
}

type Cell = StatsCell;

export interface DeliveryStatsOptions {
  /** How often counts are written (default 1 s). */
  flushMs?: number;
  /** How often rows past STATS_KEEP_MS are deleted (default hourly; the first at start). */
  pruneMs?: number;
}

/**
 * Delivery stats as they happen (DESIGN.md section 4b), counted in memory per integration
 * and 5-minute bucket, and added to `delivery_stats` about once a second with one multi-row
 * UPSERT: concurrent attempts never wait on one hot row, and processes add up (each adds
 * its own counts; none overwrites). Counts are taken only once their attempt is in the log
 * (or the relay's batch committed). A flush that fails keeps its counts for the next one;
 * `close` writes what is left. What a process counted in its last second is lost only if
 * it is killed outright (SIGKILL, a crash), never at a clean shutdown.
 */
export class DeliveryStats implements StatsCounter {
  private cells = new Map<string, Cell>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastPrune = 0;
  /** Attempts counted by this process since it started (for tests and logs). */
  attempts = 0;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: DeliveryStatsOptions = {},
  ) {}

  start(): void {
    const every = this.options.flushMs ?? 1_000;
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  recordAttempt(
    integrationId: string,
    at: Date,
    succeeded: boolean,
    dead: boolean,
    latencyMs: number,
  ): void {
    this.attempts += 1;
    const cell = this.cell(integrationId, at);
    if (succeeded) cell.delivered += 1;
    else cell.failed_attempts += 1;
    if (dead) cell.dead += 1;
    cell.latency[latencyBucket(latencyMs)]! += 1;
  }

  recordFiltered(integrationId: string, count: number, at = new Date()): void {
    this.cell(integrationId, at).filtered += count;
  }

  /** Writes what was counted so far (one flush at a time); a failure keeps it for the next. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Stops the timer and writes everything counted (after the engine and relay have stopped). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // One more try for counts a failed last write put back.
    if (this.cells.size > 0) await this.flush();
    if (this.cells.size > 0)
      this.logger.warn({ rows: this.cells.size }, 'delivery stats not written at shutdown');
  }

  private cell(integrationId: string, at: Date): Cell {
    const start = Math.floor(at.getTime() / STATS_BUCKET_MS) * STATS_BUCKET_MS;
    const key = `${integrationId}/${start}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = {
        integration_id: integrationId,
        bucket_start: new Date(start).toISOString(),
        delivered: 0,
        failed_attempts: 0,
        dead: 0,
        filtered: 0,
        latency: emptyHistogram(),
      };
      this.cells.set(key, cell);
    }
    return cell;
  }

  private async write(): Promise<void> {
    await this.prune();
    if (this.cells.size === 0) return;
    const taken = this.cells;
    this.cells = new Map();
    // In key order, so that two processes adding to the same rows lock them in one order.
    const rows = [...taken.values()].sort((a, b) =>
      a.integration_id === b.integration_id
        ? a.bucket_start.localeCompare(b.bucket_start)
        : a.integration_id.localeCompare(b.integration_id),
    );
    try {
      await upsertStats(this.db, rows);
    } catch (error) {
      for (const cell of rows) this.putBack(cell);
      this.logger.warn(
        { err: (error as Error).message, rows: rows.length },
        'delivery stats not written; retrying',
      );
    }
  }

  private putBack(cell: Cell): void {
    const key = `${cell.integration_id}/${new Date(cell.bucket_start).getTime()}`;
    const current = this.cells.get(key);
    if (!current) {
      this.cells.set(key, cell);
      return;
    }
    current.delivered += cell.delivered;
    current.failed_attempts += cell.failed_attempts;
    current.dead += cell.dead;
    current.filtered += cell.filtered;
    cell.latency.forEach((n, i) => (current.latency[i]! += n));
  }

  private async prune(): Promise<void> {
    const every = this.options.pruneMs ?? 3_600_000;
    if (Date.now() - this.lastPrune < every) return;
    this.lastPrune = Date.now();
    await pruneStats(this.db, new Date(Date.now() - STATS_KEEP_MS)).catch((error: Error) =>
      this.logger.warn({ err: error.message }, 'old delivery stats not pruned'),
    );
  }
}
