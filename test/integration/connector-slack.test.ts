import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlugin, sampleEvent, type FormEvent } from '@formhub/sdk';
import SlackPlugin from '../../connectors/slack/index.ts';
import { writeEvent } from '../../src/events/index.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { deliveryIn, listDeliveries, settledDeliveries } from '../support/deliveries.ts';
import { startFakeSlack, type FakeSlack } from '../support/fakes/slack.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';

const TOKEN = 'xoxb-test';
const NANGO_SECRET = 'nango-secret-key';

interface Integration {
  id: string;
  connector: string;
  config: Record<string, unknown>;
  events: string[];
}

/** A fake Nango: `GET /connections/{id}?provider_config_key=` answers a connection whose
 * access token is `stale` until a `force_refresh=true` call turns it into `fresh`. */
interface FakeNango {
  url: string;
  requests: { connectionId: string; providerConfigKey: string | null; forceRefresh: boolean }[];
  close(): Promise<void>;
}

async function startFakeNango(
  connections: Record<string, { stale: string; fresh: string }>,
): Promise<FakeNango> {
  const requests: FakeNango['requests'] = [];
  const current = new Map(Object.entries(connections).map(([id, t]) => [id, t.stale]));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://nango.local');
    const match = /^\/connections\/([^/]+)$/.exec(url.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${NANGO_SECRET}`)
      return send(401, { error: { code: 'unauthorized' } });
    if (req.method !== 'GET' || !match) return send(404, { error: { code: 'not_found' } });
    const connectionId = decodeURIComponent(match[1]!);
    const forceRefresh = url.searchParams.get('force_refresh') === 'true';
    const providerConfigKey = url.searchParams.get('provider_config_key');
    requests.push({ connectionId, providerConfigKey, forceRefresh });
    const tokens = connections[connectionId];
    if (!tokens || providerConfigKey !== 'slack')
      return send(404, { error: { code: 'unknown_connection' } });
    if (forceRefresh) current.set(connectionId, tokens.fresh);
    const now = new Date().toISOString();
    send(200, {
      id: 1,
      connection_id: connectionId,
      provider_config_key: providerConfigKey,
      provider: 'slack',
      created_at: now,
      updated_at: now,
      credentials: {
        type: 'OAUTH2',
        access_token: current.get(connectionId),
        expires_at: null,
        raw: {},
      },
      connection_config: {},
      metadata: null,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('slack connector through the hub', () => {
  let hub: TestHub;
  let key: string;
  let workspaceId: string;
  let slack: FakeSlack;
  let nango: FakeNango;

  beforeAll(async () => {
    slack = await startFakeSlack({ tokens: [TOKEN, 'xoxb-fresh'] });
    nango = await startFakeNango({ 'slack-conn-1': { stale: 'xoxb-stale', fresh: 'xoxb-fresh' } });
    hub = await startHub(
      {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
        WEBHOOK_TIMEOUT_MS: '3000',
        SLACK_API_URL: slack.url,
        NANGO_HOST: nango.url,
        NANGO_SECRET_KEY: NANGO_SECRET,
      },
      { worker: true },
    );
    const workspace = await hub.workspace();
    key = workspace.key;
    workspaceId = workspace.id;
  });
  afterAll(async () => {
    await hub?.close();
    await slack?.close();
    await nango?.close();
  });

  async function newForm(title = 'Contact'): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title, fields: [{ key: 'name', type: 'text' }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function submit(formId: string, name: string): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name } },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  /** A form with a Slack integration posting to a fresh channel. */
  async function connect(
    channel: string,
    extra: Record<string, unknown> = {},
    config: Record<string, unknown> = {},
  ) {
    slack.addChannel(channel);
    const formId = await newForm();
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'slack',
        config: { channel, text: 'New response: {{data.name}}', token: TOKEN, ...config },
        ...extra,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return { formId, integration: res.json() as Integration };
  }

  const deliveriesOf = (id: string, count = 1) =>
    settledDeliveries(hub, key, id, count, 'integrations');

  it('is listed with its config schema; a token in config is never returned', async () => {
    const list = await hub.request({ method: 'GET', url: '/api/v2/connectors', key });
    const slackConnector = (
      list.json() as { data: { id: string; config_schema: Record<string, unknown> }[] }
    ).data.find((c) => c.id === 'slack');
    expect(slackConnector?.config_schema).toMatchObject({
      required: ['channel', 'text'],
      additionalProperties: false,
      properties: {
        channel: { type: 'string' },
        text: { type: 'string' },
        blocks: { type: 'array' },
        token: { writeOnly: true },
      },
    });

    const { formId, integration } = await connect('#form-alerts');
    expect(integration).toMatchObject({
      connector: 'slack',
      config: { channel: '#form-alerts', text: 'New response: {{data.name}}' },
    });
    expect(integration.config).not.toHaveProperty('token');
    const answers = [
      await hub.request({ method: 'GET', url: `/api/v2/integrations/${integration.id}`, key }),
      await hub.request({ method: 'GET', url: `/api/v2/forms/${formId}/integrations`, key }),
      await hub.request({
        method: 'PATCH',
        url: `/api/v2/integrations/${integration.id}`,
        key,
        payload: { config: { text: 'New response: {{data.name}}' } },
      }),
    ];
    for (const res of answers) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).not.toContain(TOKEN);
    }
    const missing = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'slack', config: { channel: '#form-alerts', extra: 1 } },
    });
    expect(fieldsOf(expectError(missing, 422, 'validation_failed'))).toEqual(
      expect.arrayContaining(['config.text', 'config']),
    );
  });

  it('posts one message per submission with the rendered text and the delivery id in metadata', async () => {
    const { formId, integration } = await connect('#posted');
    const responseId = await submit(formId, 'Ada <!channel>');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 200, error: null }],
    });
    expect(delivery!.attempts[0]!.response_excerpt).toContain('"ok":true');

    const messages = slack.messages('#posted');
    expect(messages).toHaveLength(1);
    // Answers from the public are escaped: no channel-wide ping.
    expect(messages[0]).toMatchObject({ text: 'New response: Ada &lt;!channel&gt;', token: TOKEN });
    expect(messages[0]!.metadata).toEqual({
      event_type: 'formhub_response',
      event_payload: {
        delivery_id: delivery!.id,
        event: 'response.submitted',
        form_id: formId,
        response_id: responseId,
      },
    });
    // What @slack/web-api 8 sends: a form-encoded body, nested values as JSON strings, a bearer token.
    const call = slack.calls.find(
      (c) => c.method === 'chat.postMessage' && c.args.channel === '#posted',
    )!;
    expect(call.contentType).toBe('application/x-www-form-urlencoded');
    expect(typeof call.args.metadata).toBe('string');
    expect(call.token).toBe(TOKEN);
    expect(call.args).not.toHaveProperty('token');
    // The first attempt does not look for an earlier post.
    expect(slack.calls.filter((c) => c.method.startsWith('conversations.'))).toHaveLength(0);
    const log = await listDeliveries(hub, key, integration.id, 'integrations');
    expect(JSON.stringify(log)).not.toContain(TOKEN);
  });

  it('renders blocks as a JSON template', async () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: '*{{form.title}}*: {{data.name}}' } },
    ];
    const { formId, integration } = await connect('#blocks', {}, { blocks });
    await submit(formId, 'Grace');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery!.status).toBe('succeeded');
    expect(slack.messages('#blocks')[0]!.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Contact*: Grace' } },
    ]);
  });

  it('channel_not_found is dead after one attempt, with Slack’s error in the attempt log', async () => {
    const formId = await newForm();
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'slack',
        config: { channel: '#no-such-channel', text: 'x', token: TOKEN },
      },
    });
    const integration = res.json() as Integration;
    await submit(formId, 'Nobody');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({ status: 'dead', next_attempt_at: null });
    expect(delivery!.attempts).toHaveLength(1);
    expect(delivery!.attempts[0]).toMatchObject({ number: 1, status_code: 200 });
    expect(delivery!.attempts[0]!.error).toContain('channel_not_found');
    expect(delivery!.attempts[0]!.response_excerpt).toContain('channel_not_found');
  });

  it('HTTP 500 twice, then ok: succeeded on the third attempt with one message', async () => {
    const { formId, integration } = await connect('#flaky');
    slack.fail({ method: 'chat.postMessage', channel: '#flaky', status: 500, times: 2 });
    await submit(formId, 'Third time');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(delivery!.attempts[0]!.error).toMatch(/HTTP 500/);
    expect(slack.messages('#flaky')).toHaveLength(1);
  });

  it('429 with Retry-After is retried after the delay Slack asked for', async () => {
    const { formId, integration } = await connect('#limited');
    slack.fail({ method: 'chat.postMessage', channel: '#limited', status: 429, retryAfter: 1 });
    await submit(formId, 'Patient');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery!.status).toBe('succeeded');
    const [first, second] = delivery!.attempts;
    expect(first).toMatchObject({ status_code: 429 });
    expect(first!.error).toMatch(/rate limited/);
    expect(second).toMatchObject({ status_code: 200, error: null });
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(900);
    expect(slack.messages('#limited')).toHaveLength(1);
  });

  it('invalid_auth with a Nango connection: refreshes once and posts in the same attempt', async () => {
    slack.addChannel('#nango');
    const formId = await newForm();
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'slack',
        config: { channel: '#nango', text: 'Via Nango: {{data.name}}' },
        connection_id: 'slack-conn-1',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const integration = res.json() as Integration;
    await submit(formId, 'Refreshed');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 200, error: null }],
    });
    const messages = slack.messages('#nango');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: 'Via Nango: Refreshed', token: 'xoxb-fresh' });
    const posts = slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && c.args.channel === '#nango',
    );
    expect(posts.map((c) => [c.token, c.error])).toEqual([
      ['xoxb-stale', 'invalid_auth'],
      ['xoxb-fresh', undefined],
    ]);
    expect(
      nango.requests.map((r) => [r.connectionId, r.providerConfigKey, r.forceRefresh]),
    ).toEqual([
      ['slack-conn-1', 'slack', false], // the owner check at create
      ['slack-conn-1', 'slack', false],
      ['slack-conn-1', 'slack', true],
    ]);
  });

  it('a config token Slack refuses is dead after one attempt (it cannot be refreshed)', async () => {
    const { formId, integration } = await connect('#revoked', {}, { token: 'xoxb-revoked' });
    await submit(formId, 'Refused');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: [{ number: 1, status_code: 200 }] });
    expect(delivery!.attempts[0]!.error).toContain('invalid_auth');
    expect(slack.messages('#revoked')).toHaveLength(0);
  });

  it('replaying a succeeded delivery does not post a second message', async () => {
    const { formId, integration } = await connect('#replayed');
    await submit(formId, 'Once');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery!.status).toBe('succeeded');
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
    expect(slack.messages('#replayed')).toHaveLength(1);
    const history = slack.calls.filter((c) => c.method === 'conversations.history');
    expect(history.at(-1)!.args).toMatchObject({
      channel: slack.addChannel('#replayed'),
      limit: '20',
      include_all_metadata: 'true',
    });
  });

  it('a post that landed but whose answer was lost is not posted again on the retry', async () => {
    const { formId, integration } = await connect('#lost-answer');
    slack.fail({ method: 'chat.postMessage', channel: '#lost-answer', commit: true, reset: true });
    await submit(formId, 'Landed');
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts).toHaveLength(2);
    expect(delivery!.attempts[0]!.status_code).toBe(0);
    expect(slack.messages('#lost-answer')).toHaveLength(1);
    expect(slack.messages('#lost-answer')[0]!.metadata?.event_payload.delivery_id).toBe(
      delivery!.id,
    );
  });

  it('documented limit: a replay after more than 20 newer messages posts again', async () => {
    const { formId, integration } = await connect('#busy');
    await submit(formId, 'Buried');
    const [delivery] = await deliveriesOf(integration.id);
    slack.chatter('#busy', 25);
    await hub.request({ method: 'POST', url: `/api/v2/deliveries/${delivery!.id}/replay`, key });
    await eventually(async () => {
      const d = await deliveryIn(hub, key, delivery!.id, 'succeeded');
      return d.attempts.length === 2 ? d : undefined;
    });
    expect(slack.messages('#busy').filter((m) => m.metadata)).toHaveLength(2);
  });

  it('POST /integrations/:id/test posts a test message', async () => {
    const { integration } = await connect('#tested');
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/integrations/${integration.id}/test`,
      key,
    });
    expect(res.statusCode, res.body).toBe(202);
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({ event: 'ping', status: 'succeeded' });
    expect(slack.messages('#tested')).toMatchObject([
      { text: expect.stringContaining('Test message from formhub') },
    ]);
  });

  it('an analytics.anomaly subscription posts the alert, and nothing for responses', async () => {
    slack.addChannel('#anomalies');
    const formId = await newForm('Signups');
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'slack',
        config: { channel: '#anomalies', text: 'unused for alerts', token: TOKEN },
        events: ['analytics.anomaly'],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const integration = res.json() as Integration;
    await submit(formId, 'Not alerted');
    const anomaly = { date: '2026-11-27', count: 97, expected: 40.4 };
    await writeEvent(hub.db, {
      id: randomUUID(),
      workspaceId,
      formId,
      type: 'analytics.anomaly',
      payload: { anomaly },
      createdAt: new Date(),
    });
    const [delivery] = await deliveriesOf(integration.id);
    expect(delivery).toMatchObject({ event: 'analytics.anomaly', status: 'succeeded' });
    const messages = slack.messages('#anomalies');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toBe(
      ':warning: Signups: 97 responses on 2026-11-27, expected about 40',
    );
    expect(messages[0]!.metadata).toMatchObject({
      event_type: 'formhub_anomaly',
      event_payload: { delivery_id: delivery!.id },
    });
  });
});

describe('slack connector with the SDK harness', () => {
  let slack: FakeSlack;
  const plugin = new SlackPlugin();
  const config = { channel: '#harness', text: 'New response: {{data.name}} ({{form.title}})' };

  beforeAll(async () => {
    slack = await startFakeSlack({ channels: ['harness'], tokens: [TOKEN, 'xoxb-fresh'] });
  });
  afterAll(async () => slack?.close());

  const run = (options: Partial<Parameters<typeof runPlugin<typeof config>>[1]> = {}) =>
    runPlugin(plugin, {
      config,
      credentials: { accessToken: TOKEN },
      settings: { SLACK_API_URL: slack.url },
      ...options,
    });

  it('posts the sample event, and every exchange goes through ctx.http', async () => {
    const result = await run();
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.requests.map((r) => [r.request.url, r.response.status])).toEqual([
      [`${slack.url}chat.postMessage`, 200],
    ]);
    const [message] = slack.messages('#harness');
    expect(message).toMatchObject({ text: 'New response: Ada Lovelace (Contact form)' });
    expect(message!.metadata?.event_payload).toMatchObject({
      delivery_id: '01a2b3c4-0000-7000-8000-0000000000d1',
    });
  });

  it('refreshes refused credentials once and posts', async () => {
    const before = slack.messages('#harness').length;
    const result = await run({
      credentials: { accessToken: 'xoxb-expired' },
      refreshCredentials: async () => ({ accessToken: 'xoxb-fresh' }),
    });
    expect(result.ok).toBe(true);
    expect(result.requests.map((r) => r.response.body)).toEqual([
      expect.stringContaining('invalid_auth'),
      expect.stringContaining('"ok":true'),
    ]);
    expect(slack.messages('#harness')).toHaveLength(before + 1);
  });

  it('maps Slack’s errors onto the SDK outcomes', async () => {
    const noToken = await run({ credentials: {} });
    expect(noToken.error).toMatchObject({
      name: 'PermanentError',
      message: expect.stringMatching(/no Slack token/),
    });

    slack.fail({ method: 'chat.postMessage', error: 'not_in_channel' });
    expect((await run()).error).toMatchObject({
      name: 'PermanentError',
      statusCode: 200,
      message: 'Slack chat.postMessage: not_in_channel',
    });

    const badBlocks = await run({
      config: { ...config, blocks: [{ text: 'no type' }] } as typeof config,
    });
    expect(badBlocks.error).toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('invalid_blocks'),
    });

    const tooLong = await run({ event: sampleEvent({ data: { name: 'x'.repeat(40_001) } }) });
    expect(tooLong.error).toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('msg_too_long'),
    });

    const badTemplate = await run({ config: { ...config, text: 'Hi {{#data.name}}' } });
    expect(badTemplate.error).toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('text template'),
    });

    slack.fail({ method: 'chat.postMessage', status: 429, retryAfter: 30 });
    expect((await run()).error).toMatchObject({
      name: 'RetryableError',
      statusCode: 429,
      retryAfterMs: 30_000,
    });

    slack.fail({ method: 'chat.postMessage', status: 503 });
    expect((await run()).error).toMatchObject({ name: 'RetryableError', statusCode: 503 });

    slack.fail({ method: 'chat.postMessage', reset: true });
    expect((await run()).error).toMatchObject({ name: 'RetryableError', statusCode: 0 });

    const refused = await run({
      credentials: { accessToken: 'xoxb-nope' },
      refreshCredentials: async () => ({ accessToken: 'xoxb-still-nope' }),
    });
    expect(refused.error).toMatchObject({
      name: 'PermanentError',
      message: expect.stringMatching(/invalid_auth.*after refreshing/),
    });
  });

  it('posts an anomaly alert built from event.anomaly', async () => {
    const event: FormEvent = {
      ...sampleEvent({ type: 'analytics.anomaly' }),
      anomaly: { date: '2026-11-27', count: 3, expected: 41.6 },
    };
    const result = await run({ event });
    expect(result.ok).toBe(true);
    expect(slack.messages('#harness').at(-1)!.text).toBe(
      ':warning: Contact form: 3 responses on 2026-11-27, expected about 42',
    );
  });
});
