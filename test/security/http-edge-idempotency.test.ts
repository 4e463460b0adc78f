import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * Idempotency-Key replays (DESIGN.md section 3a): a replay returns the first answer as it
 * was given, byte for byte, and never mints a new resume token (which would lock the first
 * client out of its partial response).
 */
let hub: TestHub;
let formId: string;

beforeAll(async () => {
  hub = await startHub();
  const ws = await hub.workspace();
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key: ws.key,
    payload: {
      title: 'T',
      fields: [
        { key: 'a', type: 'text' },
        { key: 'b', type: 'text' },
      ],
    },
  });
  formId = res.json().id as string;
});

afterAll(() => hub?.close());

const submit = (key: string, payload: object) =>
  hub.request({
    method: 'POST',
    url: `/api/v2/forms/${formId}/responses`,
    headers: { 'idempotency-key': key },
    payload,
  });

const patch = (id: string, token: string, payload: object) =>
  hub.request({
    method: 'PATCH',
    url: `/api/v2/responses/${id}`,
    headers: { 'x-resume-token': token },
    payload,
  });

describe('Idempotency-Key replay', () => {
  it('returns the first answer byte for byte after answers were added; the first token still works', async () => {
    const body = { data: { a: 'first' }, completed: false };
    const first = await submit('partial-1', body);
    expect(first.statusCode).toBe(201);
    const { id, resume_token: token } = first.json() as { id: string; resume_token: string };
    expect(token).toMatch(/^rt_/);

    expect((await patch(id, token, { data: { b: 'later' } })).statusCode).toBe(200);
    const replay = await submit('partial-1', body);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);

    // The first client's token was not replaced: it completes the response.
    const done = await patch(id, token, { data: { b: 'done' }, completed: true });
    expect(done.statusCode).toBe(200);
    expect(done.json().data).toEqual({ a: 'first', b: 'done' });
    const again = await submit('partial-1', body);
    expect(again.body).toBe(first.body);
    const { rows } = await hub.db.query(
      'SELECT 1 FROM responses WHERE form_id = $1 AND idempotency_key = $2',
      [formId, 'partial-1'],
    );
    expect(rows).toHaveLength(1);
    // The same key with another body is still a conflict.
    expectError(
      await submit('partial-1', { data: { a: 'other' }, completed: false }),
      409,
      'conflict',
    );
  });
});
