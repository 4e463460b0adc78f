import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedAgent } from '../../src/net/index.ts';
import { NotificationService, payloadOf } from '../../src/notifications/index.ts';
import { WebhookChannelSender } from '../../src/notifications/webhook-channel-sender.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startFakeSlack, type FakeSlack } from '../support/fakes/slack.ts';
import { mailText, startFakeSmtp, type FakeSmtp } from '../support/fakes/smtp.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Behaviour, type Receiver } from '../support/receiver.ts';

const SLACK_TOKEN = 'xoxb-notify-test';
/** The notifier retries a send after each of these, then gives up (3 attempts). */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
  WEBHOOK_TIMEOUT_MS: '2000',
};
/** DESIGN.md section 4b: sent within 60 s of the change. */
const WITHIN_MS = 60_000;

interface Channel {
  id: string;
  kind: string;
  target: string;
  events: string[];
  status: string;
  last_error: string | null;
  secret?: string;
}

interface Send {
  channel_id: string;
  kind: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

interface OperationalEvent {
  type: string;
  id: string;
  created_at: string;
  workspace_id: string;
  integration: { id: string; connector: string; url?: string };
  delivery?: { id: string; event: string };
  reason?: string;
  sends: Send[];
}

describe('operational events and notification channels', () => {
  let hub: TestHub;
  let smtp: FakeSmtp;
  let slack: FakeSlack;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    smtp = await startFakeSmtp();
    slack = await startFakeSlack({ channels: ['ops-alerts'], tokens: [SLACK_TOKEN] });
    hub = await startHub(
      { ...ENV, SMTP_URL: smtp.url, SLACK_API_URL: slack.url },
      { worker: true },
    );
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
    await smtp?.close();
    await slack?.close();
  });

  async function receiver(behaviour?: Behaviour): Promise<Receiver> {
    const r = await startReceiver(behaviour);
    receivers.push(r);
    return r;
  }

  /** A workspace per test: channels get every event of their workspace. */
  async function workspace(): Promise<{ id: string; key: string }> {
    return hub.workspace();
  }

  async function createChannel(key: string, payload: Record<string, unknown>): Promise<Channel> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/notification-channels',
      key,
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Channel;
  }

  async function webhookOn(key: string, url: string): Promise<{ hookId: string; formId: string }> {
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Notified', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(form.statusCode, form.body).toBe(201);
    const formId = (form.json() as { id: string }).id;
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    return { hookId: (hook.json() as { id: string }).id, formId };
  }

  async function submit(formId: string, name: string): Promise<void> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name } },
    });
    expect(res.statusCode, res.body).toBe(201);
  }

  async function events(key: string): Promise<OperationalEvent[]> {
    const res = await hub.request({ method: 'GET', url: '/api/v2/operational-events', key });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: OperationalEvent[] }).data;
  }

  it('a 410 sends integration.disabled to an e-mail, a webhook and a Slack channel', async () => {
    const ws = await workspace();
    const address = `ops-${ws.id}@example.com`;
    const mail = await createChannel(ws.key, { kind: 'email', target: address });
    expect(mail.events).toEqual(['integration.disabled', 'integration.recovered', 'delivery.dead']);
    expect(mail.secret).toBeUndefined();
    const sink = await receiver();
    const hookChannel = await createChannel(ws.key, { kind: 'webhook', target: sink.url });
    expect(hookChannel.secret).toMatch(/^whsec_/);
    const slackChannel = await createChannel(ws.key, {
      kind: 'slack',
      target: '#ops-alerts',
      events: ['integration.disabled'],
      config: { token: SLACK_TOKEN },
    });
    expect(JSON.stringify(slackChannel)).not.toContain(SLACK_TOKEN);

    const gone = await receiver(() => ({ status: 410 }));
    const { hookId, formId } = await webhookOn(ws.key, gone.url);
    const changedAt = Date.now();
    await submit(formId, 'Gone');

    const [received] = await sink.waitFor(1, WITHIN_MS);
    const body = new Webhook(hookChannel.secret!).verify(
      received!.body,
      received!.headers as Record<string, string>,
    ) as OperationalEvent;
    expect(body).toMatchObject({
      type: 'integration.disabled',
      workspace_id: ws.id,
      integration: { id: hookId, connector: 'webhook', url: gone.url },
      reason: 'the target answered 410',
    });
    expect(received!.headers['x-webhook-id']).toBe(body.id);
    expect(received!.headers['x-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const email = await smtp.waitFor((m) => m.to.includes(address), WITHIN_MS);
    expect(mailText(email.raw)).toMatch(
      /Subject: \[formhub\] The webhook integration \S+ was disabled/,
    );
    expect(mailText(email.raw)).toContain(`Integration: ${hookId} (webhook)`);
    const posted = await eventually(async () => {
      const found = slack.messages('ops-alerts').find((m) => m.text.includes(hookId));
      return found ?? undefined;
    }, WITHIN_MS);
    expect(posted.token).toBe(SLACK_TOKEN);
    expect(posted.text).toContain('was disabled');
    const tookMs = Date.now() - changedAt;
    expect(tookMs).toBeLessThan(WITHIN_MS);
    console.log(`notifications: submission to e-mail, webhook and Slack in ${tookMs} ms`);

    // One event: the 410's dead delivery belongs to the disabled integration (no delivery.dead).
    const listed = await eventually(async () => {
      const list = await events(ws.key);
      return list[0]?.sends.every((s) => s.status === 'sent') ? list : undefined;
    });
    expect(listed.map((e) => e.type)).toEqual(['integration.disabled']);
    expect(listed[0]!.id).toBe(body.id);
    expect(listed[0]!.sends.map((s) => s.kind).sort()).toEqual(['email', 'slack', 'webhook']);
    expect(listed[0]!.sends.every((s) => s.attempts === 1 && s.last_error === null)).toBe(true);
  });

  it('a delivery that exhausts its retry schedule sends delivery.dead', async () => {
    const ws = await workspace();
    const address = `dead-${ws.id}@example.com`;
    await createChannel(ws.key, { kind: 'email', target: address, events: ['delivery.dead'] });
    const failing = await receiver(() => ({ status: 500 }));
    const { hookId, formId } = await webhookOn(ws.key, failing.url);
    await submit(formId, 'Dead');
    const [delivery] = await settledDeliveries(hub, ws.key, hookId);
    expect(delivery!.status).toBe('dead');
    const email = await smtp.waitFor((m) => m.to.includes(address), WITHIN_MS);
    const text = mailText(email.raw);
    expect(text).toContain(`Delivery: ${delivery!.id} (response.submitted)`);
    expect(text).toContain('Reason: the receiver answered 500');
    const [event] = await events(ws.key);
    expect(event).toMatchObject({
      type: 'delivery.dead',
      integration: { id: hookId, connector: 'webhook' },
      delivery: { id: delivery!.id, event: 'response.submitted' },
      reason: 'the receiver answered 500',
    });
  });

  it('a failing-then-succeeding endpoint sends integration.recovered once', async () => {
    const ws = await workspace();
    const sink = await receiver();
    const channel = await createChannel(ws.key, { kind: 'webhook', target: sink.url });
    const flaky = await receiver((n) => ({ status: n === 1 ? 503 : 200 }));
    const { hookId, formId } = await webhookOn(ws.key, flaky.url);
    await submit(formId, 'First');
    const [received] = await sink.waitFor(1, WITHIN_MS);
    const body = new Webhook(channel.secret!).verify(
      received!.body,
      received!.headers as Record<string, string>,
    ) as OperationalEvent;
    expect(body).toMatchObject({ type: 'integration.recovered', integration: { id: hookId } });
    // A second success changes nothing: the clock is already clear.
    await submit(formId, 'Second');
    await flaky.waitFor(3);
    await settledDeliveries(hub, ws.key, hookId, 2);
    expect((await events(ws.key)).map((e) => e.type)).toEqual(['integration.recovered']);
    expect(sink.requests).toHaveLength(1);
  });

  it('disabled by failures, turned back on, then a success: integration.recovered', async () => {
    const ws = await workspace();
    const sink = await receiver();
    const smtpBefore = smtp.mails.length;
    await createChannel(ws.key, { kind: 'webhook', target: sink.url });
    await createChannel(ws.key, { kind: 'email', target: 'ops@example.com' });
    let healthy = false;
    const endpoint = await receiver(() => ({ status: healthy ? 200 : 500 }));
    const { hookId, formId } = await webhookOn(ws.key, endpoint.url);
    await hub.db.query(
      `UPDATE integrations SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
      [hookId],
    );
    await submit(formId, 'Failing');
    const [disabled] = await sink.waitFor(1, WITHIN_MS);
    expect(JSON.parse(disabled!.body)).toMatchObject({ type: 'integration.disabled' });
    await eventually(async () => (smtp.mails.length > smtpBefore ? true : undefined), WITHIN_MS);
    expect(smtp.mails.slice(smtpBefore).map((m) => m.to)).toEqual([['ops@example.com']]);

    // The operator fixes the endpoint and turns the webhook back on: its first success
    // reports the recovery, once.
    healthy = true;
    const on = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hookId}`,
      key: ws.key,
      payload: { active: true },
    });
    expect(on.statusCode, on.body).toBe(200);
    await submit(formId, 'Fixed');
    const [, recovered] = await sink.waitFor(2, WITHIN_MS);
    expect(JSON.parse(recovered!.body)).toMatchObject({
      type: 'integration.recovered',
      integration: { id: hookId },
    });
    await submit(formId, 'Fine');
    await endpoint.waitFor(3);
    await settledDeliveries(hub, ws.key, hookId, 3);
    expect((await events(ws.key)).map((e) => e.type)).toEqual([
      'integration.recovered',
      'integration.disabled',
    ]);
  });

  it('five days of failures send integration.disabled; a key turning one off sends nothing', async () => {
    const ws = await workspace();
    const sink = await receiver();
    await createChannel(ws.key, { kind: 'webhook', target: sink.url });
    const failing = await receiver(() => ({ status: 500 }));
    const doomed = await webhookOn(ws.key, failing.url);
    const paused = await webhookOn(ws.key, failing.url);
    const off = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${paused.hookId}`,
      key: ws.key,
      payload: { active: false },
    });
    expect(off.statusCode, off.body).toBe(200);
    await hub.db.query(
      `UPDATE integrations SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
      [doomed.hookId],
    );
    await submit(doomed.formId, 'Doomed');
    const [received] = await sink.waitFor(1, WITHIN_MS);
    expect(JSON.parse(received!.body)).toMatchObject({
      type: 'integration.disabled',
      integration: { id: doomed.hookId },
      reason: 'every delivery failed for 5 days',
    });
    const [dead] = await settledDeliveries(hub, ws.key, doomed.hookId);
    expect(dead!.status).toBe('dead');
    expect((await events(ws.key)).map((e) => e.type)).toEqual(['integration.disabled']);
  });

  it('a failing channel is retried and logged, and notifies no one about itself', async () => {
    const ws = await workspace();
    const broken = await receiver(() => ({ status: 500 }));
    const bad = await createChannel(ws.key, { kind: 'webhook', target: broken.url });
    const address = `loop-${ws.id}@example.com`;
    await createChannel(ws.key, { kind: 'email', target: address });
    const gone = await receiver(() => ({ status: 410 }));
    const { formId } = await webhookOn(ws.key, gone.url);
    await submit(formId, 'Gone');

    const [event] = await eventually(async () => {
      const list = await events(ws.key);
      const send = list[0]?.sends.find((s) => s.channel_id === bad.id);
      return send?.status === 'failed' ? list : undefined;
    }, WITHIN_MS);
    const send = event!.sends.find((s) => s.channel_id === bad.id)!;
    expect(send).toMatchObject({ attempts: 3, last_error: 'the receiver answered 500' });
    expect(broken.requests).toHaveLength(3);
    // The same event id on every attempt, as a webhook's delivery id.
    expect(new Set(broken.requests.map((r) => r.headers['x-webhook-id']))).toEqual(
      new Set([event!.id]),
    );
    const shown = await hub.request({
      method: 'GET',
      url: `/api/v2/notification-channels/${bad.id}`,
      key: ws.key,
    });
    expect(shown.json()).toMatchObject({
      status: 'failing',
      last_error: 'the receiver answered 500',
    });
    // Nothing about the channel itself: one event, one mail, the other channel's send sent.
    const list = await events(ws.key);
    expect(list.map((e) => e.type)).toEqual(['integration.disabled']);
    expect(list[0]!.sends.find((s) => s.kind === 'email')!.status).toBe('sent');
    expect(smtp.mails.filter((m) => m.to.includes(address))).toHaveLength(1);
    const { rows } = await hub.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM operational_events WHERE workspace_id = $1',
      [ws.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('validates channels: 422 with the field at fault', async () => {
    const { key } = await workspace();
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'email', target: 'not-an-address' }, 'target'],
      [{ kind: 'email', target: 'a@b.example', config: { token: 'x' } }, 'config'],
      [{ kind: 'webhook', target: 'ftp://example.com/hook' }, 'target'],
      [{ kind: 'webhook', target: 'https://user:pw@example.com/' }, 'target'],
      [{ kind: 'slack', target: 'Has Spaces', config: { token: SLACK_TOKEN } }, 'target'],
      [{ kind: 'slack', target: '#ops' }, 'config.token'],
      [{ kind: 'email', target: 'a@b.example', events: [] }, 'events'],
      [{ kind: 'email', target: 'a@b.example', events: ['response.submitted'] }, 'events[0]'],
      [{ kind: 'sms', target: '+15550100' }, 'kind'],
      [{ kind: 'email' }, 'target'],
    ];
    for (const [payload, field] of cases) {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/notification-channels',
        key,
        payload,
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details).join(' '), JSON.stringify(payload)).toContain(field);
    }
  });

  it('without WEBHOOK_ALLOW_PRIVATE_TARGETS refuses private targets on create and at send time; without SMTP_URL, e-mail', async () => {
    const { id: workspaceId } = await workspace();
    const strict = new NotificationService({
      db: hub.db,
      secrets: hub.services.secrets,
      logger: pino({ level: 'silent' }),
      allowPrivateTargets: false,
      smtpConfigured: false,
    });
    const sink = await receiver();
    await expect(
      strict.create(workspaceId, { kind: 'webhook', target: sink.url }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'target', message: 'target address not allowed' }],
    });
    await expect(
      strict.create(workspaceId, { kind: 'email', target: 'ops@example.com' }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'kind', message: 'e-mail channels need SMTP_URL set on the hub' }],
    });
    // A name that resolves to loopback passes the static check; the guarded agent refuses it.
    const agent = createGuardedAgent({ allowPrivate: false, timeoutMs: 2_000 });
    try {
      const sender = new WebhookChannelSender(agent);
      const payload = payloadOf({
        id: '7f0c8c1e-3c55-4a52-9a0e-0d6c1f0e9a11',
        workspace_id: workspaceId,
        type: 'integration.recovered',
        integration_id: '7f0c8c1e-3c55-4a52-9a0e-0d6c1f0e9a12',
        connector: 'webhook',
        delivery_id: null,
        delivery_event: null,
        reason: null,
        created_at: new Date(),
      });
      const target = sink.url.replace('127.0.0.1', 'localhost');
      const channel = {
        id: 'c',
        kind: 'webhook' as const,
        target,
        secret: 'whsec_' + Buffer.alloc(32).toString('base64'),
        token: null,
      };
      await expect(sender.send(channel, payload)).rejects.toThrow(
        /not allowed|ENOTFOUND|EAI_AGAIN/,
      );
      await expect(sender.send({ ...channel, target: sink.url }, payload)).rejects.toThrow(
        /not allowed/,
      );
      expect(sink.requests).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });

  it('another workspace’s channels and events answer 404 or stay out of lists', async () => {
    const a = await workspace();
    const b = await workspace();
    const channel = await createChannel(a.key, {
      kind: 'slack',
      target: 'C0123456',
      config: { token: SLACK_TOKEN },
    });
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await hub.request({
        method,
        url: `/api/v2/notification-channels/${channel.id}`,
        key: b.key,
      });
      expectError(res, 404, 'not_found');
    }
    const list = await hub.request({
      method: 'GET',
      url: '/api/v2/notification-channels',
      key: b.key,
    });
    expect(list.json()).toEqual({ data: [], next_cursor: null });
    expect(await events(b.key)).toEqual([]);
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/notification-channels/nope', key: a.key }),
      404,
      'not_found',
    );
    const del = await hub.request({
      method: 'DELETE',
      url: `/api/v2/notification-channels/${channel.id}`,
      key: a.key,
    });
    expect(del.statusCode).toBe(204);
    expectError(
      await hub.request({
        method: 'GET',
        url: `/api/v2/notification-channels/${channel.id}`,
        key: a.key,
      }),
      404,
    );
  });

  it('never answers a secret or a token again, and stores them encrypted', async () => {
    const { key } = await workspace();
    const sink = await receiver();
    const hook = await createChannel(key, { kind: 'webhook', target: sink.url });
    const chat = await createChannel(key, {
      kind: 'slack',
      target: '#ops-alerts',
      config: { token: SLACK_TOKEN },
    });
    const answers = [
      await hub.request({ method: 'GET', url: '/api/v2/notification-channels', key }),
      await hub.request({ method: 'GET', url: `/api/v2/notification-channels/${hook.id}`, key }),
      await hub.request({ method: 'GET', url: `/api/v2/notification-channels/${chat.id}`, key }),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(hook.secret!);
      expect(res.body).not.toContain(SLACK_TOKEN);
      expect(res.body).not.toContain('"secret"');
    }
    const listed = answers[0]!.json() as { data: Channel[] };
    expect(listed.data.map((c) => c.id)).toEqual([chat.id, hook.id]);
    const { rows } = await hub.db.query<Record<string, unknown>>(
      'SELECT * FROM notification_channels WHERE id = ANY ($1::uuid[])',
      [[hook.id, chat.id]],
    );
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(hook.secret!.slice(6));
    expect(stored).not.toContain(SLACK_TOKEN);
  });
});
