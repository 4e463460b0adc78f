import type { Logger } from 'pino';
import { limitTransaction, withQueryTimeout, type Database } from '../../db/index.ts';
import type { FormRow, FormService } from '../../forms/index.ts';
import { bucketKey, seriesKeys } from './buckets.ts';
import { contribution, delta, type Contribution } from './contribution.ts';
import { buildDocument, type MetricsDocument } from './document.ts';
import {
  documentKey,
  MetricsDocumentCache,
  serveDocument,
  type ServedDocument,
} from './document-cache.ts';
import {
  markAggregated,
  pendingEvents,
  recentlyActiveForms,
  unaggregatedIds,
  type AnalyticsEvent,
} from './event-queries.ts';
import { aggregatesFromSql } from './queries.ts';
import type { MetricsStore } from './redis-store.ts';
import type { MetricsChanges } from './changes.ts';

export type MetricsSource = 'redis' | 'rebuild' | 'sql';

/** A served metrics document: the object, its JSON, its ETag, and where it came from. */
export type ServedMetrics = ServedDocument & { source: MetricsSource };

/** How long a rebuild may hold a form's lock. */
const REBUILD_LOCK_MS = 30_000;

const COUNTED_EVENTS = new Set([
  'response.started',
  'response.submitted',
  'response.updated',
  'response.deleted',
]);

/**
 * Live metrics: served from Redis aggregates that every response event updates by an exact
 * delta (once per event), rebuilt from PostgreSQL when missing, and computed by SQL while
 * Redis is unavailable, so the numbers always equal what PostgreSQL says.
 */
export class MetricsService {
  private readonly served = new MetricsDocumentCache();

  constructor(
    private readonly db: Database,
    private readonly store: MetricsStore,
    private readonly forms: FormService,
    private readonly logger: Logger,
    private readonly changes?: MetricsChanges,
  ) {}

  /** The metrics document, and where it came from (`redis`, `rebuild` or `sql`). */
  async get(
    workspaceId: string,
    formId: string,
    signal?: AbortSignal,
  ): Promise<{ document: MetricsDocument; source: MetricsSource }> {
    const { document, source } = await this.serve(workspaceId, formId, signal);
    return { document, source };
  }

  /**
   * The metrics document with its JSON and ETag. The pending events of the form are applied
   * first (a read sees every write); then, when the stamp of its aggregates and the hour are
   * those of the document this process served last, that document is served again as it is
   * (two round trips: the pending events, the stamp). The document object is shared: callers
   * must not change it.
   */
  async serve(workspaceId: string, formId: string, signal?: AbortSignal): Promise<ServedMetrics> {
    const form = await this.forms.get(workspaceId, formId);
    const now = new Date();
    try {
      // In this order: an event counted by another process before the drain looked is in
      // the stamp read after it.
      await this.drain(form.id);
      const hour = bucketKey('hour', now);
      const stamp = await this.store.stamp(form.id);
      const hit = stamp
        ? this.served.get(form.id, documentKey(form.version, stamp, hour))
        : undefined;
      if (hit) return { ...hit, source: 'redis' };
      const read = await this.store.read(form.id, form.version, {
        hours: seriesKeys('hour', now),
        days: seriesKeys('day', now),
        months: seriesKeys('month', now),
      });
      if (!read) return { ...serveDocument(await this.rebuild(form, now)), source: 'rebuild' };
      const served = serveDocument(buildDocument(form.id, form.fields, read.raw, now));
      if (read.stamp) this.served.set(form.id, documentKey(form.version, read.stamp, hour), served);
      return { ...served, source: 'redis' };
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message, form: form.id },
        'metrics from SQL: Redis unavailable',
      );
      const raw = await aggregatesFromSql(
        withQueryTimeout(this.db, { signal }),
        form.id,
        form.fields,
        now,
      );
      return { ...serveDocument(buildDocument(form.id, form.fields, raw, now)), source: 'sql' };
    }
  }

  /** Counts a batch of pending events (the analytics relay's tick); answers how many it took. */
  async applyPending(limit = 500, formId?: string): Promise<number> {
    // No lock is held while applying: several appliers may read the same events, and the
    // per-event dedupe key in Redis makes each count once. (It also keeps the embedded
    // database, which has one connection, free for the form lookups below.)
    const events = await pendingEvents(this.db, limit, formId);
    if (events.length === 0) return 0;
    const done = await this.applyEvents(events);
    await markAggregated(this.db, done);
    await this.changes?.publish(new Set(events.map((e) => e.form_id)));
    return events.length;
  }

  /**
   * Compares a form's Redis aggregates with what PostgreSQL says and rebuilds them when they
   * differ (the reconcile job). Answers true when a repair was needed.
   */
  async reconcile(form: FormRow, now = new Date()): Promise<boolean> {
    await this.drain(form.id);
    const series = {
      hours: seriesKeys('hour', now),
      days: seriesKeys('day', now),
      months: seriesKeys('month', now),
    };
    const cached = await this.store.read(form.id, form.version, series);
    if (!cached) return false; // not built: the next read builds it
    const truth = await aggregatesFromSql(withQueryTimeout(this.db), form.id, form.fields, now);
    const same =
      JSON.stringify(buildDocument(form.id, form.fields, cached.raw, now)) ===
      JSON.stringify(buildDocument(form.id, form.fields, truth, now));
    if (same) return false;
    this.logger.warn({ form: form.id }, 'metrics aggregates differed from PostgreSQL; rebuilt');
    await this.rebuild(form, now);
    await this.changes?.publish([form.id]);
    return true;
  }

  /** Reconciles every form active in the last 60 days; answers how many needed a repair. */
  async reconcileAll(now = new Date()): Promise<number> {
    let repaired = 0;
    for (const { id } of await recentlyActiveForms(this.db.reader, 60)) {
      const form = await this.forms.getAny(id);
      if (form && (await this.reconcile(form, now))) repaired += 1;
    }
    return repaired;
  }

  /** Forgets a form's aggregates (after a bulk import): the next read rebuilds them. */
  async invalidate(formId: string): Promise<void> {
    await this.store.invalidate(formId).catch((error: Error) => {
      this.logger.warn(
        { err: error.message, formId },
        'could not drop the cached metrics; the hourly reconcile repairs them',
      );
    });
    await this.changes?.publish([formId]);
  }

  /**
   * Forgets a form's aggregates after responses were hard-deleted (an erasure, responses
   * retention): drops them while holding the rebuild lock, so that a rebuild that read
   * PostgreSQL before the deletion (it holds the lock until it has written) cannot write
   * its counts back after this. Waits for such a rebuild up to the lock's 30 s; Redis
   * unavailable is logged (the hourly reconcile repairs the aggregates).
   */
  async forget(formId: string): Promise<void> {
    try {
      const deadline = Date.now() + REBUILD_LOCK_MS;
      let locked = await this.store.lock(formId, REBUILD_LOCK_MS);
      while (!locked && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        locked = await this.store.lock(formId, REBUILD_LOCK_MS);
      }
      try {
        await this.store.invalidate(formId);
      } finally {
        if (locked) await this.store.unlock(formId);
      }
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message, formId },
        'could not drop the metrics of erased responses; the hourly reconcile repairs them',
      );
    }
    await this.changes?.publish([formId]).catch(() => undefined);
  }

  /** Applies the pending events of one form before a read, so a read sees every write. */
  private async drain(formId: string): Promise<void> {
    while ((await this.applyPending(1_000, formId)) === 1_000);
  }

  /** Applies events; answers the ids that are counted now (applied, or counted before). */
  private async applyEvents(events: readonly AnalyticsEvent[]): Promise<string[]> {
    const done: string[] = [];
    const forms = new Map<string, FormRow | null>();
    const unbuilt = new Set<string>();
    for (const event of events) {
      if (!COUNTED_EVENTS.has(event.event_type)) {
        done.push(event.id);
        continue;
      }
      if (!forms.has(event.form_id))
        forms.set(event.form_id, (await this.forms.getAny(event.form_id)) ?? null);
      const form = forms.get(event.form_id);
      const change = form ? eventDelta(event, form) : null;
      if (!form || unbuilt.has(event.form_id)) {
        if (!form) done.push(event.id);
        continue;
      }
      if (!change) {
        await this.store.invalidate(form.id); // an event without its previous state: recount
        done.push(event.id);
        continue;
      }
      const applied = await this.store.apply(form.id, event.id, change);
      if (applied === -1) unbuilt.add(form.id);
      else done.push(event.id);
    }
    for (const formId of unbuilt) {
      const form = forms.get(formId);
      if (form) await this.rebuild(form, new Date());
    }
    return done;
  }

  /**
   * Recounts a form from PostgreSQL into Redis. The aggregates are dropped first (so that
   * events applied meanwhile wait), then one REPEATABLE READ snapshot gives both the counts
   * and the events those counts include but Redis has not seen; those are marked counted.
   */
  private async rebuild(form: FormRow, now: Date): Promise<MetricsDocument> {
    const locked = await this.store.lock(form.id, REBUILD_LOCK_MS);
    if (locked) await this.store.invalidate(form.id);
    try {
      const { raw, pending } = await this.db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await limitTransaction(this.db, tx);
        const pending = await unaggregatedIds(tx, form.id);
        return {
          raw: await aggregatesFromSql(tx, form.id, form.fields, now, { sequential: true }),
          pending,
        };
      });
      if (locked) await this.store.write(form.id, form.version, raw, pending);
      return buildDocument(form.id, form.fields, raw, now);
    } finally {
      if (locked) await this.store.unlock(form.id);
    }
  }
}

/** The change an event makes to its form's aggregates; null when it cannot be known. */
export function eventDelta(event: AnalyticsEvent, form: FormRow): Contribution | null {
  const { response, previous } = event.payload;
  const of = (r: typeof response) => (r ? contribution(r, form.fields) : null);
  switch (event.event_type) {
    case 'response.started':
      return delta(null, of(response));
    case 'response.submitted':
      return delta(of(previous), of(response));
    case 'response.updated':
      return previous ? delta(of(previous), of(response)) : null;
    case 'response.deleted':
      return previous ? delta(of(previous), null) : null;
    default:
      return null;
  }
}
