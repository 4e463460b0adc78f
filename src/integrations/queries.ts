import type { Field } from '../forms/index.ts';
import type { Queryable } from '../db/index.ts';
import type { PolicyChanges } from './delivery-policy.ts';

export interface IntegrationRow {
  id: string;
  workspace_id: string;
  /** Null: workspace-wide, it fires for every form of the workspace (DESIGN.md section 4a). */
  form_id: string | null;
  connector: string;
  events: string[];
  config_sealed: string;
  secret_sealed: string | null;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  connection_id: string | null;
  provider_config_key: string | null;
  active: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  /** A DSL filter an event's response must match to be delivered; null: every event. */
  condition: Record<string, unknown> | null;
  /** The integration's retry schedule as given, and in ms; null: WEBHOOK_RETRY_SCHEDULE. */
  retry_schedule: string[] | null;
  retry_schedule_ms: number[] | null;
  /** Deliveries per second at most; null: the default (none, or Zapier's per workspace). */
  rate_limit_per_second: number | null;
  /** The connector version the config was last validated with; null: not recorded yet. */
  connector_version: string | null;
  /** Set when a new major version of the connector refuses the config: not delivered to until fixed. */
  needs_update_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, workspace_id, form_id, connector, events, config_sealed, secret_sealed, previous_secret_sealed,
  previous_secret_expires_at, connection_id, provider_config_key, active, disabled_reason, failing_since,
  condition, retry_schedule, retry_schedule_ms, rate_limit_per_second, connector_version,
  needs_update_reason, created_at, updated_at`;
const I_COLUMNS = COLUMNS.split(',')
  .map((c) => `i.${c.trim()}`)
  .join(', ');

export interface NewIntegration {
  id: string;
  workspaceId: string;
  /** Null: a workspace-wide integration. */
  formId: string | null;
  connector: string;
  events: string[];
  configSealed: string;
  secretSealed: string | null;
  connectionId: string | null;
  providerConfigKey: string | null;
  active: boolean;
  condition: Record<string, unknown> | null;
  connectorVersion: string;
  now: Date;
}

export async function insertIntegration(db: Queryable, i: NewIntegration): Promise<IntegrationRow> {
  const { rows } = await db.query<IntegrationRow>(
    `INSERT INTO integrations (id, workspace_id, form_id, connector, events, config_sealed, secret_sealed,
       connection_id, provider_config_key, active, condition, connector_version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $11, $11) RETURNING ${COLUMNS}`,
    [
      i.id,
      i.workspaceId,
      i.formId,
      i.connector,
      i.events,
      i.configSealed,
      i.secretSealed,
      i.connectionId,
      i.providerConfigKey,
      i.active,
      i.now,
      i.condition === null ? null : JSON.stringify(i.condition),
      i.connectorVersion,
    ],
  );
  return rows[0]!;
}

/** A live integration: not deleted, and workspace-wide or of a form that is not deleted. */
const LIVE = `i.deleted_at IS NULL AND (i.form_id IS NULL OR f.deleted_at IS NULL)`;

/** A live integration of the workspace (whose form, if any, is live); `connector` narrows the kind. */
export async function findIntegration(
  db: Queryable,
  workspaceId: string,
  id: string,
  connector?: string,
): Promise<IntegrationRow | undefined> {
  const { rows } = await db.query<IntegrationRow>(
    `SELECT ${I_COLUMNS} FROM integrations i
     LEFT JOIN forms f ON f.id = i.form_id
     WHERE i.id = $1 AND i.workspace_id = $2 AND ${LIVE} AND ($3::text IS NULL OR i.connector = $3)`,
    [id, workspaceId, connector ?? null],
  );
  return rows[0];
}

/** An integration row as the worker reads it: deleted or not, and which version of the row. */
export type WorkerIntegrationRow = IntegrationRow & { deleted: boolean; version: string };

/**
 * An integration by id for the worker, deleted or not. `version` is the row version's
 * `xmin` (the transaction that wrote it): every UPDATE, whoever makes it, gives a new one,
 * so comparing it with the version a delivery's claim saw tells the worker its copy is
 * stale without any writer having to remember to bump a counter.
 */
export async function findIntegrationById(
  db: Queryable,
  id: string,
): Promise<WorkerIntegrationRow | undefined> {
  const { rows } = await db.query<WorkerIntegrationRow>(
    `SELECT ${COLUMNS}, deleted_at IS NOT NULL AS deleted, xmin::text AS version FROM integrations WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/**
 * The live integrations of a workspace, newest first: with `formId`, only that form's own
 * (its workspace-wide ones are not "of the form"); without, every one of the workspace.
 */
export async function listIntegrations(
  db: Queryable,
  workspaceId: string,
  formId: string | undefined,
  connector: string | undefined,
  limit: number,
  beforeId: string | undefined,
  formIds: readonly string[] | null = null,
): Promise<IntegrationRow[]> {
  // `form_id = ANY(...)` is never true of a workspace-wide integration (form_id NULL).
  const { rows } = await db.query<IntegrationRow>(
    `SELECT ${I_COLUMNS} FROM integrations i
     LEFT JOIN forms f ON f.id = i.form_id
     WHERE i.workspace_id = $1 AND ($2::uuid IS NULL OR i.form_id = $2::uuid) AND ${LIVE}
       AND ($3::text IS NULL OR i.connector = $3) AND ($4::uuid IS NULL OR i.id < $4::uuid)
       AND ($6::uuid[] IS NULL OR i.form_id = ANY($6::uuid[]))
     ORDER BY i.id DESC LIMIT $5`,
    [workspaceId, formId ?? null, connector ?? null, beforeId ?? null, limit, formIds],
  );
  return rows;
}

export interface IntegrationChanges {
  events: string[];
  configSealed: string;
  active: boolean;
  connectionId: string | null;
  providerConfigKey: string | null;
  condition: Record<string, unknown> | null;
  /** The connector version the config was just validated with (clears needs_update). */
  connectorVersion: string;
  now: Date;
}

export async function updateIntegration(
  db: Queryable,
  id: string,
  c: IntegrationChanges,
): Promise<IntegrationRow> {
  const { rows } = await db.query<IntegrationRow>(
    `UPDATE integrations SET events = $2, config_sealed = $3, active = $4, connection_id = $5,
       provider_config_key = $6, updated_at = $7, condition = $8,
       connector_version = $9, needs_update_reason = NULL,
       disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END,
       -- Turned back on after the hub disabled it (a reason): on probation, its failure
       -- clock restarts now, so its first success reports integration.recovered and five
       -- more days of failures disable it again. Turned on after a key paused it: clear.
       failing_since = CASE WHEN $4 AND NOT active
         THEN CASE WHEN disabled_reason IS NOT NULL THEN $7::timestamptz END
         ELSE failing_since END
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      c.events,
      c.configSealed,
      c.active,
      c.connectionId,
      c.providerConfigKey,
      c.now,
      c.condition === null ? null : JSON.stringify(c.condition),
      c.connectorVersion,
    ],
  );
  return rows[0]!;
}

/** Makes `secretSealed` the signing secret; the old one keeps signing until `graceUntil`. */
export async function rotateSecret(
  db: Queryable,
  id: string,
  secretSealed: string,
  graceUntil: Date,
): Promise<void> {
  await db.query(
    `UPDATE integrations SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $3,
       secret_sealed = $2, updated_at = now() WHERE id = $1`,
    [id, secretSealed, graceUntil],
  );
}

export async function softDeleteIntegration(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE integrations SET deleted_at = now(), active = false WHERE id = $1', [id]);
}

/** Turns an integration off and says why (a 410, five days of failures). */
export async function disableIntegration(
  db: Queryable,
  id: string,
  reason: string,
  remove = false,
): Promise<void> {
  await db.query(
    `UPDATE integrations SET active = false, disabled_reason = $2, updated_at = now(),
       deleted_at = CASE WHEN $3 THEN now() ELSE deleted_at END
     WHERE id = $1`,
    [id, reason, remove],
  );
}

/** One success clears the failure clock. */
export async function markHealthy(db: Queryable, id: string): Promise<void> {
  await db.query(
    'UPDATE integrations SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
    [id],
  );
}

/** Starts the failure clock if it is not running; answers when it started. */
export async function markFailing(db: Queryable, id: string, now: Date): Promise<Date> {
  const { rows } = await db.query<{ failing_since: Date }>(
    `UPDATE integrations SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since`,
    [id, now],
  );
  return rows[0]?.failing_since ?? now;
}

/**
 * An active integration as the relay's fan-out reads it: one row per integration and form it
 * fires for, so a workspace-wide integration comes once for each form of the batch.
 */
export interface RelayIntegration {
  id: string;
  workspace_id: string;
  /** The form this row fires for (a workspace-wide integration's too). */
  form_id: string;
  /** Whether the integration is workspace-wide (its condition belongs to no one form). */
  workspace_wide: boolean;
  events: string[];
  condition: Record<string, unknown> | null;
  /**
   * Which versions of the integration row and its form a compiled condition holds for
   * (`xmin` and the form's `updated_at`); the form's fields, only when there is a condition.
   */
  version: string;
  fields: Field[] | null;
  calculated_keys: string[] | null;
}

const RELAY_COLUMNS = `i.id, i.workspace_id, f.id AS form_id, i.form_id IS NULL AS workspace_wide,
  i.events, i.condition, i.xmin::text || '/' || f.updated_at::text AS version,
  CASE WHEN i.condition IS NOT NULL THEN f.fields END AS fields,
  CASE WHEN i.condition IS NOT NULL THEN ARRAY(
    SELECT c ->> 'key' FROM jsonb_array_elements(f.calculated_fields) AS c) END AS calculated_keys`;

/**
 * The active integrations that fire for these forms, for the relay's fan-out (one query per
 * batch): each form's own, and the workspace-wide ones of its workspace, found through the
 * form's own row, so an integration never fires for another workspace's form. A deleted
 * form fires none.
 */
export async function activeIntegrationsOf(
  db: Queryable,
  formIds: string[],
): Promise<RelayIntegration[]> {
  const { rows } = await db.query<RelayIntegration>(
    `SELECT ${RELAY_COLUMNS}
     FROM integrations i JOIN forms f ON f.id = i.form_id
     WHERE i.form_id = ANY($1::uuid[]) AND i.active AND i.deleted_at IS NULL AND f.deleted_at IS NULL
     UNION ALL
     SELECT ${RELAY_COLUMNS}
     FROM forms f JOIN integrations i ON i.workspace_id = f.workspace_id AND i.form_id IS NULL
     WHERE f.id = ANY($1::uuid[]) AND f.deleted_at IS NULL AND i.active AND i.deleted_at IS NULL`,
    [formIds],
  );
  return rows;
}

/**
 * Writes an integration's delivery policy (DESIGN.md section 4a): each part only when the
 * change names it (undefined keeps it; null clears it). Answers the row as it now is.
 */
export async function setDeliveryPolicy(
  db: Queryable,
  id: string,
  changes: PolicyChanges,
): Promise<IntegrationRow> {
  const retry = changes.retry;
  const { rows } = await db.query<IntegrationRow>(
    `UPDATE integrations SET
       retry_schedule = CASE WHEN $2 THEN $3::jsonb ELSE retry_schedule END,
       retry_schedule_ms = CASE WHEN $2 THEN $4::integer[] ELSE retry_schedule_ms END,
       rate_limit_per_second = CASE WHEN $5 THEN $6::integer ELSE rate_limit_per_second END
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      retry !== undefined,
      retry ? JSON.stringify(retry.schedule) : null,
      retry ? retry.ms : null,
      changes.ratePerSecond !== undefined,
      changes.ratePerSecond ?? null,
    ],
  );
  return rows[0]!;
}
