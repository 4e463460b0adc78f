import type { Logger } from 'pino';
import { startLoop, uuidv7, type Loop, type TickCause } from '../common/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import {
  formTitles,
  hasPendingEvents,
  lockPendingEvents,
  markDispatched,
  PUBLIC_EVENT_TYPES,
  type OutboxEvent,
  type OutboxWakeSource,
} from '../events/index.ts';
import { activeIntegrationsOf, type RelayIntegration } from '../integrations/index.ts';
import { ConditionCache, conditionResponse, type FilterReason } from './condition-cache.ts';
import { insertDeliveries, type NewDelivery } from './queries.ts';
import { RelaySpans } from './relay-spans.ts';
import { storedEvent } from './stored-event.ts';
import type { StatsCounter } from './stats.ts';
import type { DeliveryQueue } from './delivery-queue.ts';

/** Something else that consumes events in the relay's transaction (e.g. analytics). */
export type EventSubscriber = (events: readonly OutboxEvent[], tx: Queryable) => Promise<void>;

/**
 * How soon an idle relay looks again when the events it was woken for were locked by another
 * transaction (another relay's batch; analytics marking them counted, woken by the same commit).
 */
const LOCKED_RETRY_MS = 20;
/**
 * At most this many such quick looks in a row: events that stay locked (a long transaction
 * holds them) are looked at again at the idle interval, not every 20 ms.
 */
const LOCKED_RETRIES = 5;

/** What made an idle relay look at the outbox: its poll, a commit's notification, the listener. */
export type RelayWakeSource = 'poll' | 'locked' | OutboxWakeSource;

export interface RelayOptions {
  batchSize?: number;
  /** How long to wait when the outbox is empty and no listener wakes it (OUTBOX_POLL, 100 ms). */
  idleMs?: number;
  /** How long while `signal` listens (OUTBOX_POLL_LISTENING, 1 s): a fallback only. */
  listeningIdleMs?: number;
  /** Whether commits wake the relay (OutboxSignal): then it polls at `listeningIdleMs`. */
  signal?: { readonly listening: boolean };
  /** Counts the events an integration's condition kept from it (no delivery row is made). */
  metrics?: {
    recordFiltered(reason: FilterReason, count: number): void;
    /** Counts what made an idle relay tick (formhub_relay_wakeups_total). */
    recordWakeup?(source: RelayWakeSource): void;
  };
  /** Counts them per integration too, for the stats API (DeliveryStats). */
  stats?: Pick<StatsCounter, 'recordFiltered'>;
}

/**
 * Moves committed events from the outbox to the delivery queue. In one transaction it
 * locks a batch (FOR UPDATE SKIP LOCKED, so several relays never take the same event),
 * creates one delivery per event and subscribed integration (unique per pair), and marks
 * the events dispatched; then it queues the new deliveries. If Redis is down at that
 * moment the deliveries stay due in PostgreSQL and the sweeper queues them later.
 */
export class OutboxRelay {
  private loop: Loop | undefined;
  /** What woke the relay last, until the tick it caused starts. */
  private wokenBy: OutboxWakeSource | undefined;
  /** The last tick took nothing although events were waiting (locked by someone else). */
  private sawLocked = false;
  /** Ticks in a row that found only locked events. */
  private lockedStreak = 0;
  private readonly subscribers: EventSubscriber[] = [];
  private readonly conditions: ConditionCache;

  constructor(
    private readonly db: Database,
    private readonly queue: DeliveryQueue,
    private readonly logger: Logger,
    private readonly options: RelayOptions = {},
  ) {
    this.conditions = new ConditionCache(logger);
  }

  /** Adds a consumer that sees every batch of events inside the relay's transaction. */
  subscribe(subscriber: EventSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /**
   * Relays until `stop`: at once while there are events, then after the idle interval (the
   * short one unless `signal` listens), or at once when woken (`wake`). A failed tick is
   * logged and tried again after a second.
   */
  start(): void {
    this.loop ??= startLoop('outbox relay', (cause) => this.run(cause), this.logger, {
      idleMs: () =>
        this.sawLocked
          ? Math.min(LOCKED_RETRY_MS, this.options.idleMs ?? 100)
          : this.options.signal?.listening
            ? (this.options.listeningIdleMs ?? 1_000)
            : (this.options.idleMs ?? 100),
      errorMs: 1_000,
    });
  }

  /**
   * Looks at the outbox now (an event committed, or the listener's state changed). Wakes
   * during a tick fold into one more tick after it.
   */
  wake(source: OutboxWakeSource): void {
    this.wokenBy = source;
    this.loop?.wake();
  }

  async stop(): Promise<void> {
    const loop = this.loop;
    this.loop = undefined;
    await loop?.stop();
  }

  private async run(cause: TickCause): Promise<number> {
    if (cause === 'wake') this.options.metrics?.recordWakeup?.(this.wokenBy ?? 'notify');
    else if (cause === 'poll')
      this.options.metrics?.recordWakeup?.(this.sawLocked ? 'locked' : 'poll');
    if (cause === 'wake') this.wokenBy = undefined;
    const count = await this.tick();
    const locked = count === 0 && (await hasPendingEvents(this.db));
    this.lockedStreak = locked ? this.lockedStreak + 1 : 0;
    this.sawLocked = locked && this.lockedStreak <= LOCKED_RETRIES;
    return count;
  }

  /** Relays one batch; answers how many events it took. */
  async tick(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    const filtered = new Map<FilterReason, number>();
    const filteredFrom = new Map<string, number>();
    const batch = { spans: new RelaySpans([]) };
    try {
      return await this.relay(batchSize, filtered, filteredFrom, batch);
    } catch (error) {
      batch.spans.fail(error);
      throw error;
    } finally {
      batch.spans.end();
    }
  }

  private async relay(
    batchSize: number,
    filtered: Map<FilterReason, number>,
    filteredFrom: Map<string, number>,
    batch: { spans: RelaySpans },
  ): Promise<number> {
    const { events, deliveries } = await this.db.transaction(async (tx) => {
      const events = await lockPendingEvents(tx, batchSize);
      filtered.clear(); // a retried transaction counts its own events only
      filteredFrom.clear();
      batch.spans.end(); // and has spans of its own
      const spans = (batch.spans = new RelaySpans(events));
      if (events.length === 0) return { events, deliveries: [] as { id: string }[] };
      return spans.run(async () => {
        const made = await this.fanOut(tx, events, filtered, filteredFrom, spans);
        const deliveries = await insertDeliveries(tx, made);
        for (const subscriber of this.subscribers) await subscriber(events, tx);
        await markDispatched(
          tx,
          events.map((e) => e.id),
          new Date(),
        );
        return { events, deliveries };
      });
    });
    // Counted once committed: a rolled-back batch is relayed (and counted) again later.
    for (const [reason, count] of filtered) this.options.metrics?.recordFiltered(reason, count);
    for (const [id, count] of filteredFrom) this.options.stats?.recordFiltered(id, count);
    if (deliveries.length > 0) {
      await batch.spans.run(() =>
        this.queue
          .enqueue(
            deliveries.map((d) => ({ deliveryId: d.id, attempt: 1 })),
            { grouped: true },
          )
          .catch((error: Error) => {
            this.logger.warn(
              { err: error.message, count: deliveries.length },
              'queue unavailable; the sweeper will retry',
            );
          }),
      );
    }
    return events.length;
  }

  /** One delivery per event and integration it matches; the rest counted into `filtered` (by reason and integration). */
  private async fanOut(
    tx: Queryable,
    events: readonly OutboxEvent[],
    filtered: Map<FilterReason, number>,
    filteredFrom: Map<string, number>,
    spans: RelaySpans,
  ): Promise<NewDelivery[]> {
    const deliverable = events.filter((e) => PUBLIC_EVENT_TYPES.includes(e.type));
    if (deliverable.length === 0) return [];
    const formIds = [...new Set(deliverable.map((e) => e.formId))];
    // Each form's own integrations and its workspace's workspace-wide ones, one row per form.
    const integrations = await activeIntegrationsOf(tx, formIds);
    if (integrations.length === 0) return [];
    const byForm = new Map<string, RelayIntegration[]>();
    for (const integration of integrations) {
      const list = byForm.get(integration.form_id);
      if (list) list.push(integration);
      else byForm.set(integration.form_id, [integration]);
    }
    const titles = await formTitles(tx, formIds);
    const now = new Date();
    const out: NewDelivery[] = [];
    for (const event of deliverable) {
      const candidates = byForm.get(event.formId);
      if (!candidates) continue;
      const formEvent = toFormEvent(event, titles.get(event.formId) ?? '');
      const envelope = storedEvent(formEvent);
      const response = conditionResponse(formEvent.response);
      const traceContext = spans.contextFor(event);
      for (const integration of candidates) {
        if (!integration.events.includes(event.type)) continue;
        const reason = this.conditions.reject(integration, response);
        if (reason) {
          filtered.set(reason, (filtered.get(reason) ?? 0) + 1);
          filteredFrom.set(integration.id, (filteredFrom.get(integration.id) ?? 0) + 1);
          continue;
        }
        out.push({
          id: uuidv7(),
          workspaceId: integration.workspace_id,
          integrationId: integration.id,
          eventId: event.id,
          eventType: event.type,
          payload: envelope,
          now,
          traceContext,
        });
      }
    }
    return out;
  }
}

/** The event as plugins see it (the SDK's FormEvent). */
export function toFormEvent(event: OutboxEvent, formTitle: string) {
  const at = event.createdAt.toISOString();
  const response = (event.payload.response as { data?: Record<string, unknown> } | undefined) ?? {
    id: '00000000-0000-0000-0000-000000000000',
    form_id: event.formId,
    data: {},
    completed: true,
    submitted_at: at,
    updated_at: at,
    metadata: {},
  };
  return {
    id: event.id,
    type: event.type,
    created_at: at,
    form: { id: event.formId, title: formTitle },
    response,
    data: response.data ?? {},
    ...(event.payload.anomaly ? { anomaly: event.payload.anomaly } : {}),
  };
}
