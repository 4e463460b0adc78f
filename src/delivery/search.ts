import type { Queryable } from '../db/index.ts';
import type { DeliveryRow, DeliveryStatus } from './queries.ts';

/** The filters of `GET /deliveries` (DESIGN.md section 4b), already validated. */
export interface DeliverySearch {
  workspaceId: string;
  /** Only this integration's (checked to be the workspace's first). */
  integrationId?: string | undefined;
  formId?: string | undefined;
  /** A form-limited key's forms: only their integrations (never a workspace-wide one). */
  formIds?: readonly string[] | null | undefined;
  status?: DeliveryStatus | undefined;
  event?: string | undefined;
  responseId?: string | undefined;
  statusCode?: number | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows to answer (the page size plus one, to know whether there is a next page). */
  limit: number;
  before?: { createdAt: Date; id: string } | undefined;
}

const COLUMNS = `d.id, d.workspace_id, d.integration_id, d.event_id, d.event_type, d.status,
  d.attempts, d.next_attempt_at, d.created_at`;

/** A condition on the delivery's stored event (`delivery_payloads`, a primary-key probe). */
const payloadIs = (path: string, value: string) =>
  `EXISTS (SELECT 1 FROM delivery_payloads p WHERE p.delivery_id = d.id AND p.payload${path} = ${value})`;

/**
 * The workspace's deliveries matching every filter given, newest first (created_at, id).
 *
 * No index of `deliveries` leads with the workspace, and none is added (the table takes an
 * insert per event and integration): the search walks each integration of the workspace
 * through `deliveries_integration_idx` (integration, created_at DESC, id DESC), newest first,
 * stopping at `limit` matches per integration, and merges those. With `integrationId` it is
 * one such walk. `form_id` and `response_id` read the stored event in `delivery_payloads`
 * (`payload->'form'->>'id'`, `payload->'response'->>'id'`) by its primary key, and
 * `status_code` probes the attempt log by its primary key: the filters narrow rows the
 * walk reads, so a rare match in a long history reads far; QUERY_TIMEOUT bounds it (run it
 * on a bounded reader).
 */
export async function searchDeliveries(
  db: Queryable,
  search: DeliverySearch,
): Promise<DeliveryRow[]> {
  const params: unknown[] = [search.workspaceId];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ['d.integration_id = i.id', `d.workspace_id = $1`];
  if (search.formId) where.push(payloadIs(`->'form'->>'id'`, param(search.formId)));
  if (search.status) where.push(`d.status = ${param(search.status)}`);
  if (search.event) where.push(`d.event_type = ${param(search.event)}`);
  if (search.responseId) where.push(payloadIs(`->'response'->>'id'`, param(search.responseId)));
  if (search.statusCode !== undefined)
    where.push(
      `EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id AND a.status_code = ${param(search.statusCode)})`,
    );
  if (search.since) where.push(`d.created_at >= ${param(search.since)}`);
  if (search.until) where.push(`d.created_at <= ${param(search.until)}`);
  if (search.before) {
    const at = param(search.before.createdAt);
    where.push(`(d.created_at, d.id) < (${at}::timestamptz, ${param(search.before.id)}::uuid)`);
  }
  let integrations = search.integrationId
    ? `i.id = ${param(search.integrationId)} AND i.workspace_id = $1`
    : 'i.workspace_id = $1';
  // NULL (a workspace-wide integration) is never = ANY: a limited key never sees those.
  if (search.formIds) integrations += ` AND i.form_id = ANY(${param(search.formIds)}::uuid[])`;
  const limit = param(search.limit);
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.* FROM integrations i CROSS JOIN LATERAL (
       SELECT ${COLUMNS} FROM deliveries d WHERE ${where.join(' AND ')}
       ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit}
     ) d
     WHERE ${integrations}
     ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit}`,
    params,
  );
  return rows;
}
