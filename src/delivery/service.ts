import { isUuid, uuidv7 } from '../common/index.ts';
import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import type { IntegrationRow } from '../integrations/index.ts';
import { presentDelivery } from './present.ts';
import * as q from './queries.ts';
import { traceContextOf } from '../events/index.ts';
import { storedEvent } from './stored-event.ts';
import type { DeliveryJob, DeliveryQueue } from './delivery-queue.ts';

/** The id of a test event's placeholder response (and of a workspace-wide ping's form). */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Reading the delivery log, replaying deliveries, and sending test events. */
export class DeliveryService {
  constructor(
    private readonly db: Database,
    private readonly queue: DeliveryQueue,
    private readonly logger: Logger,
  ) {}

  async list(
    integration: IntegrationRow,
    status: q.DeliveryStatus | undefined,
    limit: number,
    before?: { createdAt: Date; id: string },
  ) {
    const rows = await q.listDeliveries(this.db.reader, integration.id, status, limit, before);
    const attempts = await q.attemptsOf(
      this.db.reader,
      rows.map((r) => r.id),
    );
    return rows.map((row) =>
      presentDelivery(
        row,
        attempts.filter((a) => a.delivery_id === row.id),
      ),
    );
  }

  async get(workspaceId: string, id: string) {
    const row = isUuid(id) ? await q.findDelivery(this.db, id, workspaceId) : undefined;
    if (!row) throw notFound('delivery');
    return presentDelivery(row, await q.attemptsOf(this.db, [row.id]));
  }

  /** Delivers again (same id, same payload) as a manual attempt, whatever its state. */
  async replay(workspaceId: string, id: string) {
    const row = isUuid(id) ? await q.rearmDelivery(this.db, id, workspaceId) : undefined;
    if (!row) throw notFound('delivery');
    await this.enqueueOrLeaveToSweeper([
      { deliveryId: row.id, attempt: row.attempts + 1, manual: true },
    ]);
    return presentDelivery(row, await q.attemptsOf(this.db, [row.id]));
  }

  /** Replays every delivery of an integration created in [since, until], optionally of one status. */
  async replayRange(
    integration: IntegrationRow,
    since: Date,
    until: Date,
    status?: q.DeliveryStatus,
  ) {
    const rows = await q.rearmDeliveries(this.db, integration.id, since, until, status);
    await this.enqueueOrLeaveToSweeper(
      rows.map((r) => ({ deliveryId: r.id, attempt: r.attempts + 1, manual: true })),
    );
    return rows.length;
  }

  /**
   * Sends a `ping` event through the engine, like any delivery. A workspace-wide
   * integration's ping names no form: its form id is the nil UUID, like the response's id.
   */
  async test(integration: IntegrationRow, formTitle: string) {
    const now = new Date();
    const eventId = uuidv7();
    const formId = integration.form_id ?? NIL_UUID;
    const event = {
      id: eventId,
      type: 'ping',
      created_at: now.toISOString(),
      form: { id: formId, title: formTitle },
      response: {
        id: NIL_UUID,
        form_id: formId,
        data: {},
        completed: true,
        submitted_at: now.toISOString(),
        updated_at: now.toISOString(),
        metadata: { test: true },
      },
      data: {},
    };
    const [created] = await q.insertDeliveries(this.db, [
      {
        id: uuidv7(),
        workspaceId: integration.workspace_id,
        integrationId: integration.id,
        eventId,
        eventType: 'ping',
        payload: storedEvent(event),
        now,
        // A test delivery continues the trace of the request that asked for it.
        traceContext: traceContextOf({}),
      },
    ]);
    await this.enqueueOrLeaveToSweeper([{ deliveryId: created!.id, attempt: 1 }]);
    return this.get(integration.workspace_id, created!.id);
  }

  /**
   * The deliveries are due in PostgreSQL already: if Redis is down, the sweeper queues them.
   * Logged, so that an operator who sees a replay wait knows why.
   */
  private async enqueueOrLeaveToSweeper(jobs: DeliveryJob[]): Promise<void> {
    await this.queue.enqueue(jobs).catch((error: Error) => {
      this.logger.warn(
        { err: error.message, deliveries: jobs.map((j) => j.deliveryId) },
        'could not queue a replay or test delivery; the sweeper will queue it',
      );
    });
  }
}
