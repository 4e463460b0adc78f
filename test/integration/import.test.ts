import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

interface Response {
  id: string;
  data: Record<string, unknown>;
  completed: boolean;
  submitted_at: string;
}

describe('bulk import', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };

  const createForm = async (): Promise<string> => {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: {
        title: 'Imported',
        fields: [
          { key: 'name', type: 'text', required: true },
          { key: 'email', type: 'email' },
          { key: 'n', type: 'integer' },
        ],
        calculated_fields: [{ key: 'double', logic: { '*': [{ var: 'data.n' }, 2] } }],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const importBody = (
    formId: string,
    body: string,
    contentType: string,
    key: string | null = ws.key,
  ) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      ...(key ? { key } : {}),
      headers: { 'content-type': contentType },
      payload: body,
    });
  const importJson = (formId: string, rows: unknown[]) =>
    importBody(formId, JSON.stringify(rows), 'application/json');
  const count = async (formId: string): Promise<number> => {
    const { rows } = await hub.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM responses WHERE form_id = $1',
      [formId],
    );
    return Number(rows[0]?.n);
  };
  const outboxCount = async (formId: string): Promise<number> => {
    const { rows } = await hub.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM outbox WHERE form_id = $1',
      [formId],
    );
    return Number(rows[0]?.n);
  };
  const listAll = async (formId: string): Promise<Response[]> => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?limit=1000`,
      key: ws.key,
    });
    expect(res.statusCode).toBe(200);
    return res.json().data as Response[];
  };

  beforeAll(async () => {
    hub = await startHub();
    ws = await hub.workspace('import');
  });
  afterAll(async () => hub.close());

  it('imports a JSON array of 3 valid rows (201 {imported: 3}), listed with their submitted_at', async () => {
    const form = await createForm();
    const rows = [
      {
        data: { name: 'Ann', email: 'ann@example.com', n: 1 },
        submitted_at: '2025-03-01T10:00:00.000Z',
      },
      { data: { name: 'Ben', n: 2 }, submitted_at: '2025-03-02T11:30:00.000Z', completed: true },
      { data: { name: 'Cid' }, submitted_at: '2025-03-03T09:15:00+02:00' },
    ];
    const res = await importJson(form, rows);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ imported: 3 });
    expect(await count(form)).toBe(3);

    const listed = await listAll(form);
    expect(listed.map((r) => r.data.name)).toEqual(['Cid', 'Ben', 'Ann']);
    expect(listed.map((r) => r.submitted_at)).toEqual([
      '2025-03-03T07:15:00.000Z',
      '2025-03-02T11:30:00.000Z',
      '2025-03-01T10:00:00.000Z',
    ]);
    expect(listed.every((r) => r.completed)).toBe(true);
    // Calculated fields are computed on import too.
    expect(listed.find((r) => r.data.name === 'Ann')?.data).toEqual({
      name: 'Ann',
      email: 'ann@example.com',
      n: 1,
      double: 2,
    });
    // since/until see the historical times.
    const since = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${form}/responses?since=${encodeURIComponent('2025-03-02T00:00:00Z')}`,
      key: ws.key,
    });
    expect((since.json().data as Response[]).map((r) => r.data.name)).toEqual(['Cid', 'Ben']);
  });

  it('imports NDJSON (application/x-ndjson), skipping blank lines and CRLF endings', async () => {
    const form = await createForm();
    const body = [
      JSON.stringify({ data: { name: 'One' }, submitted_at: '2025-01-01T00:00:00Z' }),
      '',
      JSON.stringify({ data: { name: 'Two', n: 7 }, submitted_at: '2025-01-02T00:00:00Z' }),
      JSON.stringify({ data: { name: 'Three' }, submitted_at: '2025-01-03T00:00:00Z' }),
    ].join('\r\n');
    const res = await importBody(form, `${body}\n`, 'application/x-ndjson');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ imported: 3 });
    const listed = await listAll(form);
    expect(listed.map((r) => r.data.name)).toEqual(['Three', 'Two', 'One']);
    expect(listed[1]?.data).toEqual({ name: 'Two', n: 7, double: 14 });
  });

  it('accepts a charset parameter on the content type', async () => {
    const form = await createForm();
    const res = await importBody(
      form,
      JSON.stringify([{ data: { name: 'Ü' }, submitted_at: '2025-01-01T00:00:00Z' }]),
      'application/json; charset=utf-8',
    );
    expect(res.statusCode, res.body).toBe(201);
    expect((await listAll(form))[0]?.data.name).toBe('Ü');
  });

  it('rejects the whole batch with 422 naming [i].field when one row is invalid, and imports nothing', async () => {
    const form = await createForm();
    const rows = [
      { data: { name: 'Ok1', email: 'ok1@example.com' }, submitted_at: '2025-01-01T00:00:00Z' },
      { data: { name: 'Ok2' }, submitted_at: '2025-01-02T00:00:00Z' },
      { data: { name: 'Bad', email: 'not-an-email' }, submitted_at: '2025-01-03T00:00:00Z' },
      { data: { name: 'Ok3' }, submitted_at: '2025-01-04T00:00:00Z' },
    ];
    const res = await importJson(form, rows);
    const details = expectError(res, 422, 'validation_failed');
    expect(fieldsOf(details)).toEqual(['[2].email']);
    expect(await count(form)).toBe(0);
  });

  it('names every bad row and field, in NDJSON too', async () => {
    const form = await createForm();
    const lines = [
      { data: { name: 'Ok' }, submitted_at: '2025-01-01T00:00:00Z' },
      { data: { name: 'x', n: 1.5, surprise: true }, submitted_at: '2025-01-01T00:00:00Z' },
      { data: { name: 'x' }, submitted_at: 'last tuesday' },
      { data: { name: 'x', double: 4 }, submitted_at: '2025-01-01T00:00:00Z' },
    ];
    const res = await importBody(
      form,
      lines.map((l) => JSON.stringify(l)).join('\n'),
      'application/x-ndjson',
    );
    const details = expectError(res, 422, 'validation_failed');
    expect(fieldsOf(details).sort()).toEqual(
      ['[1].n', '[1].surprise', '[2].submitted_at', '[3].double'].sort(),
    );
    expect(await count(form)).toBe(0);
  });

  it('rejects rows that are not {data, submitted_at} objects', async () => {
    const form = await createForm();
    const res = await importJson(form, [
      'just a string',
      { data: { name: 'no time' } },
      { data: 'not an object', submitted_at: '2025-01-01T00:00:00Z' },
    ]);
    const fields = fieldsOf(expectError(res, 422, 'validation_failed'));
    expect(fields).toEqual(expect.arrayContaining(['[0]', '[1].submitted_at', '[2].data']));
    expect(await count(form)).toBe(0);
  });

  it('enforces required fields only when completed is true (the default)', async () => {
    const form = await createForm();
    const partial = await importJson(form, [
      { data: { email: 'p@example.com' }, submitted_at: '2025-01-01T00:00:00Z', completed: false },
    ]);
    expect(partial.statusCode, partial.body).toBe(201);
    expect(partial.json()).toEqual({ imported: 1 });
    const listed = await listAll(form);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ completed: false, data: { email: 'p@example.com' } });

    const byDefault = await importJson(form, [
      { data: { email: 'q@example.com' }, submitted_at: '2025-01-02T00:00:00Z' },
    ]);
    expect(fieldsOf(expectError(byDefault, 422, 'validation_failed'))).toEqual(['[0].name']);
    const explicit = await importJson(form, [
      { data: { email: 'r@example.com' }, submitted_at: '2025-01-02T00:00:00Z', completed: true },
    ]);
    expect(fieldsOf(expectError(explicit, 422, 'validation_failed'))).toEqual(['[0].name']);
    expect(await count(form)).toBe(1);
  });

  it.each([
    [
      'a truncated JSON array',
      '[{"data": {"name": "a"}, "submitted_at": "2025-01-01T00:00:00Z"}',
      'application/json',
    ],
    ['a JSON object, not an array', '{"data": {"name": "a"}}', 'application/json'],
    [
      'a bad element',
      '[{"data": {"name": "a"}, "submitted_at": "2025-01-01T00:00:00Z"}, {nope}]',
      'application/json',
    ],
    [
      'a bad NDJSON line',
      '{"data": {"name": "a"}, "submitted_at": "2025-01-01T00:00:00Z"}\n{"data": ',
      'application/x-ndjson',
    ],
  ])(
    'answers 400 invalid_request to malformed JSON: %s, importing nothing',
    async (_name, body, contentType) => {
      const form = await createForm();
      expectError(await importBody(form, body, contentType), 400, 'invalid_request');
      expect(await count(form)).toBe(0);
    },
  );

  it('answers 415 to an unsupported content type', async () => {
    const form = await createForm();
    for (const contentType of ['text/csv', 'text/plain', 'application/xml']) {
      const res = await importBody(form, 'name\nAnn\n', contentType);
      expectError(res, 415);
    }
    expect(await count(form)).toBe(0);
  });

  it('needs a workspace key', async () => {
    const form = await createForm();
    const res = await importBody(form, '[]', 'application/json', null);
    expectError(res, 401, 'unauthorized');
    expectError(
      await importBody('00000000-0000-7000-8000-000000000000', '[]', 'application/json'),
      404,
      'not_found',
    );
  });

  it('writes no outbox rows', async () => {
    const form = await createForm();
    const res = await importJson(form, [
      { data: { name: 'a' }, submitted_at: '2025-01-01T00:00:00Z' },
      { data: { name: 'b' }, submitted_at: '2025-01-02T00:00:00Z', completed: false },
    ]);
    expect(res.statusCode).toBe(201);
    expect(await count(form)).toBe(2);
    expect(await outboxCount(form)).toBe(0);
    // A live submission to the same form does write one, so the query above can see events.
    const live = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${form}/responses`,
      payload: { data: { name: 'live' } },
    });
    expect(live.statusCode).toBe(201);
    expect(await outboxCount(form)).toBe(1);
  });

  it('an empty array imports nothing', async () => {
    const form = await createForm();
    const res = await importJson(form, []);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ imported: 0 });
  });

  it('streams a 20,000-row NDJSON import', async () => {
    const form = await createForm();
    const base = Date.parse('2024-01-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const submittedAt = new Date(base + i * 60_000).toISOString();
      lines.push(
        JSON.stringify({
          data: { name: `row ${i}`, n: i },
          submitted_at: submittedAt,
          completed: i % 10 !== 0,
        }),
      );
    }
    const res = await importBody(form, `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ imported: 20_000 });
    expect(await count(form)).toBe(20_000);
    const { rows } = await hub.db.query<{ partial: string; min: Date; max: Date; doubled: string }>(
      `SELECT count(*) FILTER (WHERE NOT completed) AS partial, min(submitted_at) AS min, max(submitted_at) AS max,
              count(*) FILTER (WHERE (data->>'double')::int = (data->>'n')::int * 2) AS doubled
       FROM responses WHERE form_id = $1`,
      [form],
    );
    expect(Number(rows[0]?.partial)).toBe(2_000);
    expect(rows[0]?.min.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(rows[0]?.max.toISOString()).toBe(new Date(base + 19_999 * 60_000).toISOString());
    expect(Number(rows[0]?.doubled)).toBe(20_000);
    expect(await outboxCount(form)).toBe(0);
  }, 120_000);

  it('a bad row after the first batches still rolls the whole import back', async () => {
    const form = await createForm();
    const lines: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      lines.push(JSON.stringify({ data: { name: `r${i}` }, submitted_at: '2025-06-01T00:00:00Z' }));
    }
    lines.push(JSON.stringify({ data: { n: 'NaN' }, submitted_at: '2025-06-01T00:00:00Z' }));
    const res = await importBody(form, lines.join('\n'), 'application/x-ndjson');
    expect(fieldsOf(expectError(res, 422, 'validation_failed')).sort()).toEqual([
      '[5000].n',
      '[5000].name',
    ]);
    expect(await count(form)).toBe(0);
  }, 60_000);
});
