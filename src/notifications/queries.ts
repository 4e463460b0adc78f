import type { Queryable } from '../db/index.ts';
import type { ChannelKind, OperationalEventType } from './channel-input.ts';
import type { OperationalEvent } from './message.ts';

export interface ChannelRow {
  id: string;
  workspace_id: string;
  kind: ChannelKind;
  target: string;
  events: OperationalEventType[];
  secret_sealed: string | null;
  config_sealed: string | null;
  failing_since: Date | null;
  last_error: string | null;
  created_at: Date;
}

const CHANNEL_COLUMNS = `id, workspace_id, kind, target, events, secret_sealed, config_sealed,
  failing_since, last_error, created_at`;

export interface NewChannel {
  id: string;
  workspaceId: string;
  kind: ChannelKind;
  target: string;
  events: string[];
  secretSealed: string | null;
  configSealed: string | null;
}

export async function insertChannel(db: Queryable, c: NewChannel): Promise<ChannelRow> {
  const { rows } = await db.query<ChannelRow>(
    `INSERT INTO notification_channels (id, workspace_id, kind, target, events, secret_sealed, config_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${CHANNEL_COLUMNS}`,
    [c.id, c.workspaceId, c.kind, c.target, c.events, c.secretSealed, c.configSealed],
  );
  return rows[0]!;
}

export async function findChannel(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ChannelRow | undefined> {
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1 AND workspace_id = $2`,
    [id, workspaceId],
  );
  return rows[0];
}

/** The workspace's channels, newest first (ids are UUIDv7), after the cursor's id. */
export async function listChannels(
  db: Queryable,
  workspaceId: string,
  limit: number,
  before: string | undefined,
): Promise<ChannelRow[]> {
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channels
     WHERE workspace_id = $1 AND ($2::uuid IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [workspaceId, before ?? null, limit],
  );
  return rows;
}

/** Deletes a channel (its pending sends go with it); answers whether it was there. */
export async function deleteChannel(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM notification_channels WHERE id = $1 AND workspace_id = $2 RETURNING id',
    [id, workspaceId],
  );
  return rows.length > 0;
}

const EVENT_COLUMNS = `e.id, e.workspace_id, e.type, e.integration_id, e.connector, e.delivery_id,
  e.delivery_event, e.reason, e.created_at`;

/** An event with its integration's sealed config (for a webhook's URL). */
export type StoredEvent = OperationalEvent & {
  integration_connector_config: string | null;
};

/** The workspace's operational events, newest first, after the cursor's position. */
export async function listEvents(
  db: Queryable,
  workspaceId: string,
  limit: number,
  before: { at: Date; id: string } | undefined,
): Promise<StoredEvent[]> {
  const { rows } = await db.query<StoredEvent>(
    `SELECT ${EVENT_COLUMNS},
       (SELECT i.config_sealed FROM integrations i WHERE i.id = e.integration_id AND i.connector = 'webhook')
         AS integration_connector_config
     FROM operational_events e
     WHERE e.workspace_id = $1 AND ($2::timestamptz IS NULL OR (e.created_at, e.id) < ($2, $3::uuid))
     ORDER BY e.created_at DESC, e.id DESC LIMIT $4`,
    [workspaceId, before?.at ?? null, before?.id ?? null, limit],
  );
  return rows;
}

/** One channel's send of one event: its state and log. */
export interface SendRow {
  event_id: string;
  channel_id: string;
  kind: ChannelKind | null;
  target: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  sent_at: Date | null;
}

/** The sends of these events (a channel deleted since took its sends along). */
export async function sendsOf(db: Queryable, eventIds: string[]): Promise<SendRow[]> {
  if (eventIds.length === 0) return [];
  const { rows } = await db.query<SendRow>(
    `SELECT s.event_id, s.channel_id, c.kind, c.target, s.status, s.attempts, s.last_error,
       s.next_attempt_at, s.sent_at
     FROM notification_sends s JOIN notification_channels c ON c.id = s.channel_id
     WHERE s.event_id = ANY ($1::uuid[]) ORDER BY s.event_id, c.id`,
    [eventIds],
  );
  return rows;
}

/** A claimed send: the event, the channel, and this attempt's number. */
export interface ClaimedSend {
  event: StoredEvent;
  channel: ChannelRow;
  attempt: number;
}

/**
 * Claims up to `limit` due sends for one attempt each, leased for `leaseMs` (a worker that
 * dies holding one lets it go again after that), and reads their events and channels.
 */
export async function claimSends(
  db: Queryable,
  limit: number,
  leaseMs: number,
): Promise<ClaimedSend[]> {
  const { rows } = await db.query<{ event_id: string; channel_id: string; attempts: number }>(
    `UPDATE notification_sends s
     SET locked_until = now() + $2 * interval '1 millisecond', attempts = s.attempts + 1
     FROM (
       SELECT event_id, channel_id FROM notification_sends
       WHERE status = 'pending' AND next_attempt_at <= now()
         AND (locked_until IS NULL OR locked_until < now())
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     ) due
     WHERE s.event_id = due.event_id AND s.channel_id = due.channel_id
     RETURNING s.event_id, s.channel_id, s.attempts`,
    [limit, leaseMs],
  );
  if (rows.length === 0) return [];
  const events = await db.query<StoredEvent>(
    `SELECT ${EVENT_COLUMNS},
       (SELECT i.config_sealed FROM integrations i WHERE i.id = e.integration_id AND i.connector = 'webhook')
         AS integration_connector_config
     FROM operational_events e WHERE e.id = ANY ($1::uuid[])`,
    [[...new Set(rows.map((r) => r.event_id))]],
  );
  const channels = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = ANY ($1::uuid[])`,
    [[...new Set(rows.map((r) => r.channel_id))]],
  );
  const eventById = new Map(events.rows.map((e) => [e.id, e]));
  const channelById = new Map(channels.rows.map((c) => [c.id, c]));
  return rows.flatMap((r) => {
    const event = eventById.get(r.event_id);
    const channel = channelById.get(r.channel_id);
    return event && channel ? [{ event, channel, attempt: r.attempts }] : [];
  });
}

/** How one send attempt ended: sent, to be tried again at `retryAt`, or failed for good. */
export interface SendResult {
  eventId: string;
  channelId: string;
  error: string | null;
  retryAt: Date | null;
}

/**
 * Settles send attempts in one statement: a success marks the send sent and clears its
 * channel's failing state; a failure keeps its error in the send's log and either waits
 * for `retryAt` or, with none, fails for good. A channel with a failure is marked failing
 * (since its first one), and the mark is all: nothing here raises an operational event.
 */
export async function settleSends(db: Queryable, results: readonly SendResult[]): Promise<void> {
  if (results.length === 0) return;
  await db.query(
    `WITH u AS (
       SELECT * FROM json_to_recordset($1::json)
         AS r("eventId" uuid, "channelId" uuid, error text, "retryAt" timestamptz)
     ), sends AS (
       UPDATE notification_sends s SET locked_until = NULL, last_error = u.error,
         status = CASE WHEN u.error IS NULL THEN 'sent' WHEN u."retryAt" IS NULL THEN 'failed' ELSE 'pending' END,
         next_attempt_at = COALESCE(u."retryAt", s.next_attempt_at),
         sent_at = CASE WHEN u.error IS NULL THEN now() ELSE NULL END
       FROM u WHERE s.event_id = u."eventId" AND s.channel_id = u."channelId"
     ), latest AS (
       SELECT DISTINCT ON ("channelId") "channelId", error FROM u ORDER BY "channelId", error NULLS FIRST
     )
     UPDATE notification_channels c SET last_error = latest.error,
       failing_since = CASE WHEN latest.error IS NULL THEN NULL ELSE COALESCE(c.failing_since, now()) END
     FROM latest WHERE c.id = latest."channelId"`,
    [JSON.stringify(results)],
  );
}
