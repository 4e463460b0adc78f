import { expect } from 'vitest';
import { aggregatesFromSql, buildDocument } from '../../src/analytics/metrics/index.ts';
import type { FormRow } from '../../src/forms/index.ts';
import { eventually } from './receiver.ts';
import type { TestHub } from './hub.ts';

export interface ErasureBody {
  id: string;
  status: string;
  form_id: string | null;
  match: unknown;
  created_at: string;
  finished_at: string | null;
  counts: Record<string, number>;
  error: string | null;
}

/** Calls the API as `key`; throws on anything but a 2xx. */
export function caller(hub: TestHub, key: string) {
  return async <T = { id: string }>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    payload?: object,
    headers?: Record<string, string>,
  ): Promise<T> => {
    const res = await hub.request({ method, url: `/api/v2${path}`, key, payload, headers });
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${res.body}`);
    return (res.body ? res.json() : undefined) as T;
  };
}

/** Waits until the erasure is finished (succeeded or failed) and answers it. */
export function finishedErasure(hub: TestHub, key: string, id: string): Promise<ErasureBody> {
  return eventually(async () => {
    const res = await hub.request({ method: 'GET', url: `/api/v2/erasures/${id}`, key });
    const body = res.json() as ErasureBody;
    return body.status === 'succeeded' || body.status === 'failed' ? body : undefined;
  }, 30_000);
}

/** One count from SQL. */
export async function sqlCount(hub: TestHub, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await hub.db.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

/**
 * Asserts that the metrics endpoint equals SQL over the responses left: the document the
 * hub computes from PostgreSQL, and (independently) the totals and one field's counts.
 */
export async function expectMetricsEqualSql(
  hub: TestHub,
  key: string,
  formId: string,
  field: string,
): Promise<void> {
  const res = await hub.request({
    method: 'GET',
    url: `/api/v2/analytics/forms/${formId}/metrics`,
    key,
  });
  expect(res.statusCode, res.body).toBe(200);
  const served = res.json() as {
    total: number;
    completed: number;
    partial: number;
    fields: Record<string, { answered: number; counts: Record<string, number> }>;
  };
  const { rows } = await hub.db.query<FormRow>(
    'SELECT id, fields, version FROM forms WHERE id = $1',
    [formId],
  );
  const form = rows[0]!;
  const now = new Date();
  const truth = buildDocument(
    formId,
    form.fields,
    await aggregatesFromSql(hub.db, formId, form.fields, now),
    now,
  );
  expect(served).toEqual(truth);
  const live = 'form_id = $1 AND NOT deleted';
  expect(served.total).toBe(
    await sqlCount(hub, `SELECT count(*) AS n FROM responses WHERE ${live}`, [formId]),
  );
  expect(served.completed).toBe(
    await sqlCount(hub, `SELECT count(*) AS n FROM responses WHERE ${live} AND completed`, [
      formId,
    ]),
  );
  const { rows: values } = await hub.db.query<{ v: string; n: string }>(
    `SELECT data ->> $2 AS v, count(*) AS n FROM responses
      WHERE ${live} AND completed AND data ? $2 GROUP BY 1`,
    [formId, field],
  );
  expect(served.fields[field]!.counts).toEqual(
    Object.fromEntries(values.map((r) => [r.v, Number(r.n)])),
  );
  expect(served.fields[field]!.answered).toBe(values.reduce((sum, r) => sum + Number(r.n), 0));
}

/** What SQL says the erasure of `ids` (response ids of `workspaceId`) must delete. */
export async function dependents(hub: TestHub, workspaceId: string, ids: string[]) {
  const params = [workspaceId, ids];
  return {
    responses: ids.length,
    events: await sqlCount(
      hub,
      `SELECT count(*) AS n FROM outbox WHERE workspace_id = $1 AND payload -> 'response' ->> 'id' = ANY($2::text[])`,
      params,
    ),
    deliveries: await sqlCount(
      hub,
      `SELECT count(*) AS n FROM deliveries d JOIN delivery_payloads p ON p.delivery_id = d.id
        WHERE d.workspace_id = $1 AND p.payload -> 'response' ->> 'id' = ANY($2::text[])`,
      params,
    ),
    attempts: await sqlCount(
      hub,
      `SELECT count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        JOIN delivery_payloads p ON p.delivery_id = d.id
        WHERE d.workspace_id = $1 AND p.payload -> 'response' ->> 'id' = ANY($2::text[])`,
      params,
    ),
    idempotency_records: await sqlCount(
      hub,
      `SELECT count(*) AS n FROM responses WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND idempotency_key IS NOT NULL`,
      params,
    ),
  };
}
