import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf, sleep, UUID_RE } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

interface Response {
  id: string;
  form_id: string;
  data: Record<string, unknown>;
  completed: boolean;
  submitted_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  resume_token?: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

interface OutboxRow {
  id: string;
  event_type: string;
  form_id: string;
  workspace_id: string;
  payload: { response: Response };
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A form with one field of every type. */
const EVERY_TYPE_FIELDS = [
  { key: 'name', type: 'text', required: true, max_length: 50 },
  { key: 'bio', type: 'textarea' },
  { key: 'email', type: 'email', required: true },
  { key: 'site', type: 'url' },
  { key: 'phone', type: 'phone' },
  { key: 'score', type: 'number', min: 0, max: 100 },
  { key: 'count', type: 'integer', min: 1, max: 10 },
  { key: 'agree', type: 'boolean' },
  { key: 'birthday', type: 'date' },
  { key: 'meeting', type: 'datetime' },
  { key: 'color', type: 'select', options: ['red', 'green', 'blue'] },
  { key: 'size', type: 'radio', options: ['s', 'm', 'l'] },
  { key: 'tags', type: 'multiselect', options: ['a', 'b', 'c'] },
  { key: 'stars', type: 'rating', max: 5 },
];

const VALID = {
  name: 'Ada Lovelace',
  bio: 'Mathematician.\nWrote the first program.',
  email: 'ada@example.com',
  site: 'https://example.com/ada?x=1',
  phone: '+44 20 7946 0958',
  score: 97.5,
  count: 3,
  agree: true,
  birthday: '1815-12-10',
  meeting: '2026-11-28T10:00:00Z',
  color: 'green',
  size: 'm',
  tags: ['a', 'c'],
  stars: 5,
};

const ALL_INVALID = {
  name: 42,
  bio: ['not', 'text'],
  email: 'not-an-email',
  site: 'ftp://example.com',
  phone: 'call me maybe',
  score: 'high',
  count: 2.5,
  agree: 'yes',
  birthday: '2026-02-30',
  meeting: 'yesterday',
  color: 'purple',
  size: 'xl',
  tags: ['a', 'z'],
  stars: 6,
};

describe('responses', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };
  let everyType: string;
  let calc: string;

  const createForm = async (payload: object): Promise<string> => {
    const res = await hub.request({ method: 'POST', url: '/api/v2/forms', key: ws.key, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const submit = (
    formId: string,
    payload: unknown,
    opts: { key?: string; headers?: Record<string, string> } = {},
  ) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: payload as object,
      ...opts,
    });
  const submitOk = async (formId: string, payload: object, key?: string): Promise<Response> => {
    const res = await submit(formId, payload, key ? { key } : {});
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Response;
  };
  const patch = (id: string, payload: object, headers: Record<string, string> = {}, key?: string) =>
    hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${id}`,
      payload,
      headers,
      ...(key ? { key } : {}),
    });
  const outboxFor = async (responseId: string): Promise<OutboxRow[]> => {
    const { rows } = await hub.db.query<OutboxRow>(
      `SELECT id, event_type, form_id, workspace_id, payload FROM outbox
       WHERE payload->'response'->>'id' = $1 ORDER BY created_at, id`,
      [responseId],
    );
    return rows;
  };
  const countRows = async (sql: string, params: unknown[]): Promise<number> => {
    const { rows } = await hub.db.query<{ n: string }>(sql, params);
    return Number(rows[0]?.n);
  };
  const withoutToken = ({ resume_token: _token, ...rest }: Response) => rest;

  beforeAll(async () => {
    hub = await startHub();
    ws = await hub.workspace('responses');
    everyType = await createForm({ title: 'Every type', fields: EVERY_TYPE_FIELDS });
    calc = await createForm({
      title: 'Calculated',
      fields: [
        { key: 'first', type: 'text', required: true },
        { key: 'last', type: 'text', required: true },
        { key: 'a', type: 'number' },
        { key: 'b', type: 'number' },
      ],
      calculated_fields: [
        { key: 'full_name', logic: { cat: [{ var: 'data.first' }, ' ', { var: 'data.last' }] } },
        { key: 'total', logic: { '+': [{ var: 'data.a' }, { var: 'data.b' }] } },
      ],
    });
  });
  afterAll(async () => hub.close());

  describe('submission and validation', () => {
    it('accepts a fully valid submission of every field type (201), stored as sent', async () => {
      const res = await submit(everyType, { data: VALID, metadata: { source: 'test' } });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json() as Response;
      expect(body).toEqual({
        id: expect.stringMatching(UUID_RE),
        form_id: everyType,
        data: VALID,
        completed: true,
        submitted_at: expect.stringMatching(ISO_UTC),
        updated_at: expect.stringMatching(ISO_UTC),
        metadata: { source: 'test' },
      });
      expect(body).not.toHaveProperty('resume_token');
      const { rows } = await hub.db.query<{
        data: unknown;
        completed: boolean;
        workspace_id: string;
        deleted: boolean;
      }>('SELECT data, completed, workspace_id, deleted FROM responses WHERE id = $1', [body.id]);
      expect(rows).toEqual([{ data: VALID, completed: true, workspace_id: ws.id, deleted: false }]);
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${body.id}`,
        key: ws.key,
      });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(body);
    });

    it('accepts the other valid shapes of each type', async () => {
      const data = {
        name: 'x',
        email: 'a.b+c@sub.example.org',
        site: 'http://localhost:8080/',
        phone: '(555) 123-4567',
        score: 0,
        count: 10,
        agree: false,
        birthday: '2024-02-29',
        meeting: '2026-11-28T10:00:00.123+02:00',
        tags: [],
        stars: 1,
      };
      const body = await submitOk(everyType, { data });
      expect(body.data).toEqual(data);
    });

    it('answers 422 with exactly one detail per bad field to an all-invalid submission', async () => {
      const res = await submit(everyType, { data: ALL_INVALID });
      const details = expectError(res, 422, 'validation_failed');
      expect(details).toHaveLength(Object.keys(ALL_INVALID).length);
      expect(fieldsOf(details).sort()).toEqual(Object.keys(ALL_INVALID).sort());
      for (const d of details) expect(d.message.length).toBeGreaterThan(0);
    });

    it.each([
      ['text over max_length', { name: 'x'.repeat(51) }, 'name'],
      ['number over max', { score: 100.5 }, 'score'],
      ['number under min', { score: -1 }, 'score'],
      ['integer given as a string', { count: '3' }, 'count'],
      ['rating of 0', { stars: 0 }, 'stars'],
      ['multiselect not a list', { tags: 'a' }, 'tags'],
      ['multiselect repeating a choice', { tags: ['a', 'a'] }, 'tags'],
      ['date with a time', { birthday: '2026-01-01T00:00:00Z' }, 'birthday'],
      ['datetime without a zone', { meeting: '2026-11-28T10:00:00' }, 'meeting'],
      ['select option in the wrong case', { color: 'Red' }, 'color'],
    ])('rejects %s', async (_name, bad, field) => {
      const res = await submit(everyType, { data: { ...VALID, ...bad } });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual([field]);
    });

    it('answers 422 to an unknown key', async () => {
      const res = await submit(everyType, { data: { ...VALID, nickname: 'Ada' } });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details)).toEqual(['nickname']);
    });

    it('answers 422 to missing required fields, one detail each', async () => {
      const rest: Record<string, unknown> = { ...VALID };
      delete rest.name;
      delete rest.email;
      const res = await submit(everyType, { data: rest });
      expect(fieldsOf(expectError(res, 422, 'validation_failed')).sort()).toEqual([
        'email',
        'name',
      ]);
      const blank = await submit(everyType, { data: { ...VALID, name: '' } });
      expect(fieldsOf(expectError(blank, 422, 'validation_failed'))).toEqual(['name']);
    });

    it('answers 400 invalid_request to bad JSON', async () => {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${everyType}/responses`,
        headers: { 'content-type': 'application/json' },
        payload: '{"data": {"name": "x",',
      });
      expectError(res, 400, 'invalid_request');
    });

    it('answers 413 payload_too_large to a body over 1 MiB', async () => {
      const before = await countRows('SELECT count(*) AS n FROM responses WHERE form_id = $1', [
        everyType,
      ]);
      const res = await submit(everyType, {
        data: { ...VALID, bio: 'x'.repeat(1024 * 1024 + 10) },
      });
      expectError(res, 413, 'payload_too_large');
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE form_id = $1', [everyType]),
      ).toBe(before);
    });

    it.each([
      ['a string', 'Ada'],
      ['a list', [{ name: 'Ada' }]],
      ['null', null],
      ['a number', 7],
    ])('answers 422 when data is %s', async (_name, data) => {
      const res = await submit(everyType, { data });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toContain('data');
    });

    it('answers 422 when data is missing', async () => {
      expect(
        fieldsOf(
          expectError(await submit(everyType, { completed: true }), 422, 'validation_failed'),
        ),
      ).toContain('data');
    });

    it('writes nothing, not even an event, for a refused submission', async () => {
      const rowsBefore = await countRows('SELECT count(*) AS n FROM responses WHERE form_id = $1', [
        everyType,
      ]);
      const eventsBefore = await countRows('SELECT count(*) AS n FROM outbox WHERE form_id = $1', [
        everyType,
      ]);
      await submit(everyType, { data: ALL_INVALID });
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE form_id = $1', [everyType]),
      ).toBe(rowsBefore);
      expect(
        await countRows('SELECT count(*) AS n FROM outbox WHERE form_id = $1', [everyType]),
      ).toBe(eventsBefore);
    });

    it('answers 404 to a submission to an unknown or malformed form id', async () => {
      expectError(
        await submit('00000000-0000-7000-8000-000000000000', { data: {} }),
        404,
        'not_found',
      );
      expectError(await submit('nope', { data: {} }), 404, 'not_found');
    });

    it('refuses a public submission to a draft form (404) but takes it with the workspace key (201)', async () => {
      const draft = await createForm({
        title: 'Draft',
        status: 'draft',
        fields: [{ key: 'q', type: 'text' }],
      });
      expectError(await submit(draft, { data: { q: 'public' } }), 404, 'not_found');
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE form_id = $1', [draft]),
      ).toBe(0);
      const withKey = await submitOk(draft, { data: { q: 'internal' } }, ws.key);
      expect(withKey).toMatchObject({ form_id: draft, data: { q: 'internal' }, completed: true });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first response for the same key and body: 201 both, one row, one event', async () => {
      const payload = { data: { ...VALID, name: 'Idem' } };
      const headers = { 'idempotency-key': 'retry-123' };
      const first = await submit(everyType, payload, { headers });
      expect(first.statusCode).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const second = await submit(everyType, payload, { headers });
      expect(second.statusCode).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.json()).toEqual(first.json());
      const id = (first.json() as Response).id;
      expect(
        await countRows("SELECT count(*) AS n FROM responses WHERE data->>'name' = 'Idem'", []),
      ).toBe(1);
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE idempotency_key = $1', [
          'retry-123',
        ]),
      ).toBe(1);
      expect((await outboxFor(id)).map((e) => e.event_type)).toEqual(['response.submitted']);
    });

    it('answers 409 conflict to the same key with a different body', async () => {
      const headers = { 'idempotency-key': 'retry-456' };
      const first = await submit(everyType, { data: { ...VALID, name: 'First' } }, { headers });
      expect(first.statusCode).toBe(201);
      const second = await submit(everyType, { data: { ...VALID, name: 'Second' } }, { headers });
      expectError(second, 409, 'conflict');
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE idempotency_key = $1', [
          'retry-456',
        ]),
      ).toBe(1);
      expect(
        await countRows("SELECT count(*) AS n FROM responses WHERE data->>'name' = 'Second'", []),
      ).toBe(0);
    });

    it('concurrent retries with one key make one response', async () => {
      const payload = { data: { ...VALID, name: 'Racer' } };
      const headers = { 'idempotency-key': 'race-1' };
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => submit(everyType, payload, { headers })),
      );
      expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(answers.map((r) => r.json().id as string)).size).toBe(1);
      expect(answers.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
      expect(
        await countRows('SELECT count(*) AS n FROM responses WHERE idempotency_key = $1', [
          'race-1',
        ]),
      ).toBe(1);
      expect(await outboxFor(answers[0]!.json().id as string)).toHaveLength(1);
    });

    it('a replayed partial submission still lets the client resume it', async () => {
      const payload = { data: { name: 'Lost answer' }, completed: false };
      const headers = { 'idempotency-key': 'partial-retry' };
      const first = await submit(everyType, payload, { headers });
      expect(first.statusCode).toBe(201);
      // The first answer was lost on the way; the client retries and must get a usable token.
      const second = await submit(everyType, payload, { headers });
      expect(second.statusCode).toBe(201);
      expect(second.json().id).toBe(first.json().id);
      const token = (second.json() as Response).resume_token;
      expect(token).toEqual(expect.any(String));
      const resumed = await patch(
        first.json().id as string,
        { data: { bio: 'resumed' } },
        { 'x-resume-token': token ?? '' },
      );
      expect(resumed.statusCode, resumed.body).toBe(200);
    });

    it('the same key on another form is a different submission', async () => {
      const headers = { 'idempotency-key': 'retry-789' };
      const a = await submit(everyType, { data: VALID }, { headers });
      const b = await submit(calc, { data: { first: 'A', last: 'B' } }, { headers });
      expect(a.statusCode).toBe(201);
      expect(b.statusCode).toBe(201);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      expect(b.json().id).not.toBe(a.json().id);
    });

    it('without a key, the same body twice makes two responses', async () => {
      const payload = { data: { ...VALID, name: 'Twice' } };
      const a = await submitOk(everyType, payload);
      const b = await submitOk(everyType, payload);
      expect(a.id).not.toBe(b.id);
    });
  });

  describe('partial responses and resume', () => {
    it('returns a resume_token for a partial response and does not enforce required fields', async () => {
      const res = await submit(everyType, { data: { bio: 'only this' }, completed: false });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json() as Response;
      expect(body).toMatchObject({ completed: false, data: { bio: 'only this' } });
      expect(body.resume_token).toEqual(expect.any(String));
      expect(body.resume_token!.length).toBeGreaterThanOrEqual(20);
      const stored = await hub.db.query<{ row: string }>(
        'SELECT r::text AS row FROM responses r WHERE id = $1',
        [body.id],
      );
      expect(stored.rows[0]?.row).not.toContain(body.resume_token);
    });

    it('still validates the values a partial response does carry', async () => {
      const res = await submit(everyType, { data: { email: 'nope' }, completed: false });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['email']);
    });

    it('merges data with X-Resume-Token, enforces required on completion, then retires the token', async () => {
      const started = await submitOk(everyType, {
        data: { name: 'Partial Pat', bio: 'b' },
        completed: false,
      });
      const token = started.resume_token!;
      await sleep(5);

      const merged = await patch(
        started.id,
        { data: { color: 'red', bio: null } },
        { 'x-resume-token': token },
      );
      expect(merged.statusCode, merged.body).toBe(200);
      expect(merged.json()).toMatchObject({
        id: started.id,
        completed: false,
        data: { name: 'Partial Pat', color: 'red' },
      });
      expect(merged.json().data).not.toHaveProperty('bio');
      expect(merged.json()).not.toHaveProperty('resume_token');
      expect(Date.parse(merged.json().updated_at as string)).toBeGreaterThan(
        Date.parse(started.updated_at),
      );
      expect(merged.json().submitted_at).toBe(started.submitted_at);

      const invalid = await patch(
        started.id,
        { data: { color: 'mauve' } },
        { 'x-resume-token': token },
      );
      expect(fieldsOf(expectError(invalid, 422, 'validation_failed'))).toEqual(['color']);

      const missing = await patch(started.id, { completed: true }, { 'x-resume-token': token });
      expect(fieldsOf(expectError(missing, 422, 'validation_failed'))).toEqual(['email']);
      // The refused completion changed nothing: the token still works and it is still partial.
      const still = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${started.id}`,
        key: ws.key,
      });
      expect(still.json()).toMatchObject({
        completed: false,
        data: { name: 'Partial Pat', color: 'red' },
      });

      await sleep(5);
      const done = await patch(
        started.id,
        { data: { email: 'pat@example.com' }, completed: true },
        { 'x-resume-token': token },
      );
      expect(done.statusCode, done.body).toBe(200);
      const completed = done.json() as Response;
      expect(completed).toMatchObject({
        id: started.id,
        completed: true,
        data: { name: 'Partial Pat', color: 'red', email: 'pat@example.com' },
      });
      expect(Date.parse(completed.submitted_at)).toBeGreaterThan(Date.parse(started.submitted_at));
      expect(Date.parse(completed.updated_at)).toBeGreaterThanOrEqual(
        Date.parse(completed.submitted_at),
      );

      const reuse = await patch(
        started.id,
        { data: { bio: 'again' } },
        { 'x-resume-token': token },
      );
      expectError(reuse, 401, 'unauthorized');
      const after = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${started.id}`,
        key: ws.key,
      });
      expect(after.json()).toEqual(completed);
    });

    it('answers 401 to a wrong token, and to a PATCH with neither token nor key', async () => {
      const started = await submitOk(everyType, { data: { name: 'Guarded' }, completed: false });
      expectError(
        await patch(started.id, { data: { bio: 'x' } }, { 'x-resume-token': 'rt_wrong' }),
        401,
        'unauthorized',
      );
      expectError(
        await patch(
          started.id,
          { data: { bio: 'x' } },
          { 'x-resume-token': `${started.resume_token!}x` },
        ),
        401,
        'unauthorized',
      );
      expectError(await patch(started.id, { data: { bio: 'x' } }), 401, 'unauthorized');
      // Another partial's token does not open this one.
      const other = await submitOk(everyType, { data: { name: 'Other' }, completed: false });
      expectError(
        await patch(started.id, { data: { bio: 'x' } }, { 'x-resume-token': other.resume_token! }),
        401,
        'unauthorized',
      );
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${started.id}`,
        key: ws.key,
      });
      expect(got.json().data).toEqual({ name: 'Guarded' });
    });

    it('a completed response has no token to resume it with', async () => {
      const done = await submitOk(everyType, { data: VALID });
      expectError(
        await patch(done.id, { data: { bio: 'x' } }, { 'x-resume-token': 'rt_anything' }),
        401,
        'unauthorized',
      );
    });

    it('the workspace key may PATCH a response too', async () => {
      const started = await submitOk(everyType, { data: { name: 'Keyed' }, completed: false });
      const res = await patch(
        started.id,
        { data: { email: 'k@example.com' }, completed: true },
        {},
        ws.key,
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        completed: true,
        data: { name: 'Keyed', email: 'k@example.com' },
      });
    });

    it('answers 409 to making a completed response partial again', async () => {
      const done = await submitOk(everyType, { data: VALID });
      expectError(await patch(done.id, { completed: false }, {}, ws.key), 409, 'conflict');
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${done.id}`,
        key: ws.key,
      });
      expect(got.json().completed).toBe(true);
    });

    it('answers 404 to a PATCH of an unknown response', async () => {
      const res = await patch('00000000-0000-7000-8000-000000000000', { data: {} }, {}, ws.key);
      expectError(res, 404, 'not_found');
    });
  });

  describe('calculated fields', () => {
    it('stores calculated values in data', async () => {
      const body = await submitOk(calc, { data: { first: 'Ada', last: 'Lovelace', a: 2, b: 3.5 } });
      expect(body.data).toEqual({
        first: 'Ada',
        last: 'Lovelace',
        a: 2,
        b: 3.5,
        full_name: 'Ada Lovelace',
        total: 5.5,
      });
      const { rows } = await hub.db.query<{ data: Record<string, unknown> }>(
        'SELECT data FROM responses WHERE id = $1',
        [body.id],
      );
      expect(rows[0]?.data).toMatchObject({ full_name: 'Ada Lovelace', total: 5.5 });
    });

    it('recomputes them on PATCH', async () => {
      const started = await submitOk(calc, { data: { first: 'Ada', a: 1 }, completed: false });
      expect(started.data).toMatchObject({ full_name: 'Ada ' });
      const res = await patch(
        started.id,
        { data: { last: 'Byron', b: 41 }, completed: true },
        { 'x-resume-token': started.resume_token! },
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data).toEqual({
        first: 'Ada',
        last: 'Byron',
        a: 1,
        b: 41,
        full_name: 'Ada Byron',
        total: 42,
      });
      const again = await patch(started.id, { data: { first: 'Augusta' } }, {}, ws.key);
      expect(again.json().data).toMatchObject({ full_name: 'Augusta Byron', total: 42 });
      const { rows } = await hub.db.query<{ data: Record<string, unknown> }>(
        'SELECT data FROM responses WHERE id = $1',
        [started.id],
      );
      expect(rows[0]?.data).toMatchObject({ full_name: 'Augusta Byron', total: 42 });
    });

    it('answers 422 when a submission sets a calculated key', async () => {
      const res = await submit(calc, { data: { first: 'A', last: 'B', full_name: 'forged' } });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['full_name']);
      const started = await submitOk(calc, { data: { first: 'A' }, completed: false });
      const forged = await patch(
        started.id,
        { data: { total: 1000 } },
        { 'x-resume-token': started.resume_token! },
      );
      expect(fieldsOf(expectError(forged, 422, 'validation_failed'))).toEqual(['total']);
    });
  });

  describe('listing', () => {
    let form: string;
    let ids: string[]; // ids[i] submitted on 2026-01-(i+1) at noon UTC
    const partial = new Set([1, 4]);
    const day = (i: number) => `2026-01-0${i + 1}T12:00:00.000Z`;
    const list = async (query: string): Promise<Page<Response>> => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form}/responses?${query}`,
        key: ws.key,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as Page<Response>;
    };

    beforeAll(async () => {
      form = await createForm({
        title: 'Listing',
        fields: [
          { key: 'a', type: 'text' },
          { key: 'b', type: 'integer' },
          { key: 'c', type: 'text' },
        ],
      });
      ids = [];
      for (let i = 0; i < 7; i++) {
        const body = await submitOk(form, {
          data: { a: `a${i}`, b: i, c: `c${i}` },
          completed: !partial.has(i),
        });
        ids.push(body.id);
        await hub.db.query('UPDATE responses SET submitted_at = $2 WHERE id = $1', [
          body.id,
          day(i),
        ]);
      }
    });

    it('walks 7 responses three at a time with the cursor: newest first, no duplicates, null at the end', async () => {
      const seen: Response[] = [];
      const sizes: number[] = [];
      const cursors: (string | null)[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const page = await list(`limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        sizes.push(page.data.length);
        seen.push(...page.data);
        cursor = page.next_cursor;
        cursors.push(cursor);
        if (!cursor) break;
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(cursors[0]).toEqual(expect.any(String));
      expect(cursors[cursors.length - 1]).toBeNull();
      expect(seen.map((r) => r.id)).toEqual([...ids].reverse());
      expect(seen.map((r) => r.submitted_at)).toEqual([6, 5, 4, 3, 2, 1, 0].map(day));
      expect(new Set(seen.map((r) => r.id)).size).toBe(7);
    });

    it('pages through responses sharing one submitted_at without gaps or duplicates', async () => {
      const tied = await createForm({ title: 'Ties', fields: [{ key: 'a', type: 'text' }] });
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await submitOk(tied, { data: { a: `t${i}` } })).id);
      await hub.db.query(
        "UPDATE responses SET submitted_at = '2026-03-01T00:00:00Z' WHERE form_id = $1",
        [tied],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const url: string = `/api/v2/forms/${tied}/responses?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = (
          await hub.request({ method: 'GET', url, key: ws.key })
        ).json() as Page<Response>;
        seen.push(...page.data.map((r) => r.id));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(5);
      expect([...seen].sort()).toEqual([...made].sort());
    });

    it('an exact last page still ends with next_cursor null', async () => {
      const page = await list('limit=7');
      expect(page.data).toHaveLength(7);
      expect(page.next_cursor).toBeNull();
    });

    it('projects data with fields=a,b', async () => {
      const page = await list('fields=a,b');
      expect(page.data).toHaveLength(7);
      for (const r of page.data) {
        expect(Object.keys(r.data).sort()).toEqual(['a', 'b']);
        expect(r).toHaveProperty('submitted_at');
      }
      expect(page.data[0]?.data).toEqual({ a: 'a6', b: 6 });
    });

    it('answers 400 to a projection naming an unknown field', async () => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form}/responses?fields=a,zzz`,
        key: ws.key,
      });
      expect(fieldsOf(expectError(res, 400, 'invalid_request'))).toContain('fields');
    });

    it('bounds submitted_at with since and until', async () => {
      const since = await list(`since=${encodeURIComponent('2026-01-03T00:00:00Z')}`);
      expect(since.data.map((r) => r.id)).toEqual([6, 5, 4, 3, 2].map((i) => ids[i]));
      const until = await list(`until=${encodeURIComponent('2026-01-04T23:00:00Z')}`);
      expect(until.data.map((r) => r.id)).toEqual([3, 2, 1, 0].map((i) => ids[i]));
      const both = await list(
        `since=${encodeURIComponent('2026-01-03T00:00:00Z')}&until=${encodeURIComponent('2026-01-05T23:00:00Z')}`,
      );
      expect(both.data.map((r) => r.id)).toEqual([4, 3, 2].map((i) => ids[i]));
      const none = await list(`since=${encodeURIComponent('2026-02-01T00:00:00Z')}`);
      expect(none).toEqual({ data: [], next_cursor: null });
      // The cursor keeps the bounds.
      const first = await list(`since=${encodeURIComponent('2026-01-03T00:00:00Z')}&limit=2`);
      const second = await list(
        `since=${encodeURIComponent('2026-01-03T00:00:00Z')}&limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`,
      );
      expect([...first.data, ...second.data].map((r) => r.id)).toEqual(
        [6, 5, 4, 3].map((i) => ids[i]),
      );
    });

    it('answers 400 to a since that is not a date', async () => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form}/responses?since=last-week`,
        key: ws.key,
      });
      expectError(res, 400, 'invalid_request');
    });

    it('narrows to completed=true or completed=false', async () => {
      const done = await list('completed=true');
      expect(done.data.map((r) => r.id)).toEqual([6, 5, 3, 2, 0].map((i) => ids[i]));
      expect(done.data.every((r) => r.completed)).toBe(true);
      const open = await list('completed=false');
      expect(open.data.map((r) => r.id)).toEqual([4, 1].map((i) => ids[i]));
      expect(open.data.every((r) => !r.completed)).toBe(true);
    });

    it('answers 400 to a malformed filter', async () => {
      for (const filter of ['{not json', JSON.stringify({ 'data.a': { $regex: '.*' } })]) {
        const res = await hub.request({
          method: 'GET',
          url: `/api/v2/forms/${form}/responses?filter=${encodeURIComponent(filter)}`,
          key: ws.key,
        });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('answers 400 to a bad cursor and a bad limit', async () => {
      for (const query of ['cursor=xyz', 'limit=0', 'limit=5000']) {
        const res = await hub.request({
          method: 'GET',
          url: `/api/v2/forms/${form}/responses?${query}`,
          key: ws.key,
        });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('needs the workspace key', async () => {
      expectError(
        await hub.request({ method: 'GET', url: `/api/v2/forms/${form}/responses` }),
        401,
        'unauthorized',
      );
    });
  });

  describe('soft delete', () => {
    it('answers 204, then GET is 404, the list drops it, and the row stays with deleted=true', async () => {
      const form = await createForm({ title: 'Deleting', fields: [{ key: 'q', type: 'text' }] });
      const keep = await submitOk(form, { data: { q: 'keep' } });
      const gone = await submitOk(form, { data: { q: 'gone' } });

      const del = await hub.request({
        method: 'DELETE',
        url: `/api/v2/responses/${gone.id}`,
        key: ws.key,
      });
      expect(del.statusCode).toBe(204);
      expect(del.body).toBe('');

      expectError(
        await hub.request({ method: 'GET', url: `/api/v2/responses/${gone.id}`, key: ws.key }),
        404,
        'not_found',
      );
      const page = (
        await hub.request({ method: 'GET', url: `/api/v2/forms/${form}/responses`, key: ws.key })
      ).json() as Page<Response>;
      expect(page.data.map((r) => r.id)).toEqual([keep.id]);
      const { rows } = await hub.db.query<{ deleted: boolean; data: unknown }>(
        'SELECT deleted, data FROM responses WHERE id = $1',
        [gone.id],
      );
      expect(rows).toEqual([{ deleted: true, data: { q: 'gone' } }]);

      expectError(
        await hub.request({ method: 'DELETE', url: `/api/v2/responses/${gone.id}`, key: ws.key }),
        404,
        'not_found',
      );
      expectError(await patch(gone.id, { data: { q: 'x' } }, {}, ws.key), 404, 'not_found');
      expectError(
        await hub.request({ method: 'DELETE', url: `/api/v2/responses/${gone.id}` }),
        401,
        'unauthorized',
      );
    });

    it('a deleted partial cannot be resumed with its token', async () => {
      const started = await submitOk(everyType, { data: { name: 'Ghost' }, completed: false });
      expect(
        (
          await hub.request({
            method: 'DELETE',
            url: `/api/v2/responses/${started.id}`,
            key: ws.key,
          })
        ).statusCode,
      ).toBe(204);
      const res = await patch(
        started.id,
        { data: { bio: 'boo' } },
        { 'x-resume-token': started.resume_token! },
      );
      expect([401, 404]).toContain(res.statusCode);
      expectError(res, res.statusCode);
    });
  });

  describe('outbox', () => {
    it('writes one response.submitted event with the snapshot for a completed submission', async () => {
      const body = await submitOk(everyType, { data: VALID, metadata: { m: 1 } });
      const events = await outboxFor(body.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        event_type: 'response.submitted',
        form_id: everyType,
        workspace_id: ws.id,
      });
      expect(events[0]!.payload.response).toEqual(body);
    });

    it('writes exactly one event per write through a partial response life: started, updated, submitted, deleted', async () => {
      const events = async () => outboxFor(started.id);
      const started = await submitOk(everyType, { data: { name: 'Eve' }, completed: false });
      const rows = await events();
      expect(rows.map((e) => e.event_type)).toEqual(['response.started']);
      expect(rows[0]!.payload.response).toEqual(withoutToken(started));
      expect(JSON.stringify(rows[0]!.payload)).not.toContain(started.resume_token!);
      const seen = new Set(rows.map((e) => e.id));
      const newest = async (type: string, snapshot: Response) => {
        const now = await events();
        const fresh = now.filter((e) => !seen.has(e.id));
        expect(fresh.map((e) => e.event_type)).toEqual([type]);
        expect(fresh[0]!.payload.response).toEqual(snapshot);
        for (const e of fresh) seen.add(e.id);
      };

      await sleep(2);
      const updated = await patch(
        started.id,
        { data: { bio: 'hi' } },
        { 'x-resume-token': started.resume_token! },
      );
      expect(updated.statusCode).toBe(200);
      await newest('response.updated', updated.json() as Response);

      // A refused PATCH writes no event.
      const refused = await patch(
        started.id,
        { completed: true },
        { 'x-resume-token': started.resume_token! },
      );
      expect(refused.statusCode).toBe(422);
      expect(await events()).toHaveLength(2);

      await sleep(2);
      const done = await patch(
        started.id,
        { data: { email: 'eve@example.com' }, completed: true },
        { 'x-resume-token': started.resume_token! },
      );
      expect(done.statusCode).toBe(200);
      await newest('response.submitted', done.json() as Response);

      await sleep(2);
      const edited = await patch(started.id, { data: { bio: 'edited' } }, {}, ws.key);
      expect(edited.statusCode).toBe(200);
      await newest('response.updated', edited.json() as Response);

      await sleep(2);
      expect(
        (
          await hub.request({
            method: 'DELETE',
            url: `/api/v2/responses/${started.id}`,
            key: ws.key,
          })
        ).statusCode,
      ).toBe(204);
      const now = await events();
      const fresh = now.filter((e) => !seen.has(e.id));
      expect(fresh.map((e) => e.event_type)).toEqual(['response.deleted']);
      expect(fresh[0]!.payload.response).toMatchObject({
        id: started.id,
        form_id: everyType,
        data: edited.json().data,
      });
      expect(now.map((e) => e.event_type)).toEqual([
        'response.started',
        'response.updated',
        'response.submitted',
        'response.updated',
        'response.deleted',
      ]);
    });
  });
});
