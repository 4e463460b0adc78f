import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import {
  deliveryIn,
  listDeliveries,
  settledDeliveries,
  type Attempt,
  type Delivery,
} from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Behaviour, type Receiver } from '../support/receiver.ts';

const TIMEOUT_MS = 500;
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,400ms',
  WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
};
const ALL_EVENTS = ['response.submitted', 'response.updated', 'response.deleted'];

interface Hook {
  id: string;
  url: string;
  events: string[];
  template: unknown;
  headers: Record<string, string>;
  active: boolean;
  disabled_reason: string | null;
  secret?: string;
}

/** What an attempt of the log should say; everything else is checked for its type. */
interface ExpectedAttempt {
  status_code: number;
  excerpt: string | null;
  /** null: the attempt succeeded; a RegExp: the error it must match. */
  error: RegExp | null;
  manual?: boolean;
}

/** Checks an attempt log exactly: numbers 1..n in order, codes, excerpts, errors, latencies. */
function expectLog(attempts: Attempt[], expected: ExpectedAttempt[]): void {
  expect(attempts.map((a) => a.number)).toEqual(expected.map((_, i) => i + 1));
  expected.forEach((want, i) => {
    const got = attempts[i]!;
    expect(Object.keys(got).sort()).toEqual([
      'at',
      'error',
      'latency_ms',
      'manual',
      'number',
      'response_excerpt',
      'status_code',
    ]);
    expect(got.status_code, `attempt ${i + 1}`).toBe(want.status_code);
    expect(got.response_excerpt, `attempt ${i + 1}`).toBe(want.excerpt);
    if (want.error === null) expect(got.error, `attempt ${i + 1}`).toBeNull();
    else expect(got.error, `attempt ${i + 1}`).toMatch(want.error);
    expect(got.manual).toBe(want.manual ?? false);
    expect(Number.isInteger(got.latency_ms)).toBe(true);
    expect(got.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(got.at))).toBe(false);
    if (i > 0) expect(Date.parse(got.at)).toBeGreaterThanOrEqual(Date.parse(attempts[i - 1]!.at));
  });
}

describe('webhook behaviour against misbehaving receivers', () => {
  let hub: TestHub;
  let key: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    key = (await hub.workspace()).key;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  async function receiver(behaviour?: Behaviour): Promise<Receiver> {
    const r = await startReceiver(behaviour);
    receivers.push(r);
    return r;
  }

  /** A fresh form per test, so that no other test's webhooks see its events. */
  async function newForm(title = 'Behaviour'): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title,
        fields: [
          { key: 'name', type: 'text' },
          { key: 'age', type: 'integer' },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function createHook(formId: string, payload: Record<string, unknown>): Promise<Hook> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Hook;
  }

  async function submit(formId: string, data: Record<string, unknown>): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function getHook(id: string): Promise<Hook> {
    const res = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${id}`, key });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Hook;
  }

  const finished = (d: Delivery) => {
    expect(d.next_attempt_at).toBeNull();
  };

  describe('attempt log', () => {
    it('(a) a receiver that hangs past the timeout: status 0, a timeout error, then success', async () => {
      const r = await receiver((n) =>
        n === 1
          ? { status: 200, body: 'too late', delayMs: 3 * TIMEOUT_MS }
          : { status: 200, body: 'ok-2' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Slow' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      finished(d!);
      expectLog(d!.attempts, [
        { status_code: 0, excerpt: null, error: /time.?out|within \d+ ?ms/i },
        { status_code: 200, excerpt: 'ok-2', error: null },
      ]);
      // The first attempt was cut at the timeout, not after the receiver's late answer.
      expect(d!.attempts[0]!.latency_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(d!.attempts[0]!.latency_ms).toBeLessThan(3 * TIMEOUT_MS);
      expect(r.requests).toHaveLength(2);
      expect(r.requests[1]!.headers['x-webhook-id']).toBe(r.requests[0]!.headers['x-webhook-id']);
    });

    it('(b) a receiver that resets the connection: status 0 with an error, then success', async () => {
      const r = await receiver((n) =>
        n === 1 ? { reset: true } : { status: 201, body: 'created' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Reset' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      finished(d!);
      expectLog(d!.attempts, [
        { status_code: 0, excerpt: null, error: /closed|reset|socket|ECONNRESET/i },
        { status_code: 201, excerpt: 'created', error: null },
      ]);
    });

    it('(c) a 302 is never followed: the Location gets nothing and it counts as a failure', async () => {
      const elsewhere = await receiver(() => ({ status: 200, body: 'followed' }));
      const r = await receiver(() => ({
        status: 302,
        headers: { location: elsewhere.url },
        body: 'moved',
      }));
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Redirect' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('dead');
      finished(d!);
      const failure = { status_code: 302, excerpt: 'moved', error: /302|redirect/i };
      expectLog(d!.attempts, [failure, failure, failure, failure]);
      expect(r.requests).toHaveLength(4);
      expect(elsewhere.requests).toHaveLength(0);
      // A dead delivery does not disable the webhook (only a 410 or 5 days of failures do).
      expect(await getHook(hook.id)).toMatchObject({ active: true, disabled_reason: null });
    });

    it('(d) a 410 disables the webhook at once; later submissions reach it no more', async () => {
      const gone = await receiver(() => ({ status: 410, body: 'gone for good' }));
      const sentinel = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: gone.url });
      await createHook(formId, { url: sentinel.url });
      await submit(formId, { name: 'First' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('dead');
      finished(d!);
      expectLog(d!.attempts, [{ status_code: 410, excerpt: 'gone for good', error: /410|gone/i }]);
      const disabled = await getHook(hook.id);
      expect(disabled.active).toBe(false);
      expect(disabled.disabled_reason).toEqual(expect.any(String));
      expect(disabled.disabled_reason!.length).toBeGreaterThan(0);

      await submit(formId, { name: 'Second' });
      // Once the sentinel has the second event, the relay has fanned it out to every webhook.
      await sentinel.waitFor(2);
      expect(gone.requests).toHaveLength(1);
      expect(await listDeliveries(hub, key, hook.id)).toHaveLength(1);
    });

    it('(d) re-activating a webhook disabled by a 410 clears the reason and delivers again', async () => {
      let gone = true;
      const r = await receiver(() =>
        gone ? { status: 410, body: 'gone' } : { status: 200, body: 'back' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'First' });
      await settledDeliveries(hub, key, hook.id);
      expect((await getHook(hook.id)).active).toBe(false);
      gone = false;
      const res = await hub.request({
        method: 'PATCH',
        url: `/api/v2/webhooks/${hook.id}`,
        key,
        payload: { active: true },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ active: true, disabled_reason: null });
      await submit(formId, { name: 'Second' });
      const deliveries = await settledDeliveries(hub, key, hook.id, 2);
      expect(deliveries.map((d) => d.status)).toEqual(['dead', 'succeeded']);
    });

    it('disables a webhook whose deliveries have all failed for 5 days', async () => {
      const r = await receiver(() => ({ status: 500, body: 'still broken' }));
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await hub.db.query(
        `UPDATE integrations SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
        [hook.id],
      );
      await submit(formId, { name: 'Doomed' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('dead');
      finished(d!);
      expectLog(d!.attempts, [{ status_code: 500, excerpt: 'still broken', error: /500/ }]);
      const disabled = await getHook(hook.id);
      expect(disabled.active).toBe(false);
      expect(disabled.disabled_reason).toMatch(/5 days/);
    });

    it('one success resets the 5-day failure clock', async () => {
      const r = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await hub.db.query(
        `UPDATE integrations SET failing_since = now() - interval '4 days' WHERE id = $1`,
        [hook.id],
      );
      await submit(formId, { name: 'Saved' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      const { rows } = await hub.db.query<{ failing_since: Date | null }>(
        'SELECT failing_since FROM integrations WHERE id = $1',
        [hook.id],
      );
      expect(rows[0]!.failing_since).toBeNull();
      expect(await getHook(hook.id)).toMatchObject({ active: true, disabled_reason: null });
    });

    it('a 5-day failure clock that a later success outdates is restarted, not obeyed', async () => {
      const r = await receiver((n) =>
        n === 1 ? { status: 200, body: 'fine' } : { status: 500, body: 'down' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Fine' });
      await settledDeliveries(hub, key, hook.id);
      // As if a failure elsewhere had started the clock 5 days ago and the success above had
      // raced with it (the worker's cached row may say the clock is not running).
      await hub.db.query(
        `UPDATE integrations SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
        [hook.id],
      );
      await submit(formId, { name: 'Unlucky' });
      const deliveries = await settledDeliveries(hub, key, hook.id, 2);
      const failed = deliveries.find((d) => d.status !== 'succeeded');
      expect(failed?.status).toBe('dead');
      expect(failed!.attempts).toHaveLength(4); // the whole schedule: not disabled at the first failure
      expect(await getHook(hook.id)).toMatchObject({ active: true, disabled_reason: null });
      const { rows } = await hub.db.query<{ failing_since: Date }>(
        'SELECT failing_since FROM integrations WHERE id = $1',
        [hook.id],
      );
      expect(Date.now() - rows[0]!.failing_since.getTime()).toBeLessThan(60_000);
    });

    it('(e) a 429 with Retry-After: 1 is retried no sooner than a second later', async () => {
      const r = await receiver((n) =>
        n === 1
          ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }
          : { status: 200, body: 'thanks' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Busy' });
      // Between the attempts the delivery is failed, due no sooner than 1 s after attempt 1.
      const waiting = await eventually(async () => {
        const [d] = await listDeliveries(hub, key, hook.id);
        return d?.status === 'failed' ? d : undefined;
      });
      expect(waiting.next_attempt_at).not.toBeNull();
      expect(
        Date.parse(waiting.next_attempt_at!) - Date.parse(waiting.attempts[0]!.at),
      ).toBeGreaterThanOrEqual(1_000);

      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      finished(d!);
      expectLog(d!.attempts, [
        { status_code: 429, excerpt: 'slow down', error: /429/ },
        { status_code: 200, excerpt: 'thanks', error: null },
      ]);
      expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(950);
      expect(
        Date.parse(d!.attempts[1]!.at) - Date.parse(d!.attempts[0]!.at),
      ).toBeGreaterThanOrEqual(950);
    });

    it('(f) a 500 for the first three attempts, then a 200 on the last one of the schedule', async () => {
      const r = await receiver((n) =>
        n <= 3 ? { status: 500, body: `fail-${n}` } : { status: 200, body: `ok-${n}` },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Flaky' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      finished(d!);
      expectLog(d!.attempts, [
        { status_code: 500, excerpt: 'fail-1', error: /500/ },
        { status_code: 500, excerpt: 'fail-2', error: /500/ },
        { status_code: 500, excerpt: 'fail-3', error: /500/ },
        { status_code: 200, excerpt: 'ok-4', error: null },
      ]);
      expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
      expect(r.requests[0]!.headers['webhook-id']).toBe(d!.id);
    });

    it('cuts a 30 KB response body to at most 20 KB in response_excerpt', async () => {
      const big = 'x'.repeat(30 * 1024);
      const r = await receiver(() => ({ status: 200, body: big }));
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'Big' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      expect(d!.status).toBe('succeeded');
      const excerpt = d!.attempts[0]!.response_excerpt!;
      expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(20 * 1024);
      expect(excerpt.length).toBeGreaterThan(19 * 1024);
      expect(big.startsWith(excerpt)).toBe(true);
    });
  });

  describe('requests', () => {
    it('sends the custom headers', async () => {
      const r = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, {
        url: r.url,
        headers: { 'X-Custom-Token': 'abc123', 'X-Tenant': 'acme' },
      });
      // Header values are write-only: names read back, values as "***" (test/security covers it).
      expect(hook.headers).toEqual({ 'X-Custom-Token': '***', 'X-Tenant': '***' });
      await submit(formId, { name: 'Headers' });
      const [request] = await r.waitFor(1);
      expect(request!.headers['x-custom-token']).toBe('abc123');
      expect(request!.headers['x-tenant']).toBe('acme');
      expect(request!.headers['content-type']).toMatch(/^application\/json/);
    });

    it('refuses custom headers that formhub sets itself (422 naming the header)', async () => {
      const formId = await newForm();
      for (const name of ['X-Webhook-Signature', 'webhook-id', 'Content-Type', 'Host']) {
        const res = await hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/webhooks`,
          key,
          payload: { url: 'http://127.0.0.1:9/hook', headers: { [name]: 'forged' } },
        });
        expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual([`headers.${name}`]);
      }
    });

    it('refuses unknown events (422 on events)', async () => {
      const formId = await newForm();
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: 'http://127.0.0.1:9/hook', events: ['response.started'] },
      });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['events']);
    });

    it('renders a template without HTML escaping, and a lone tag keeps its JSON type', async () => {
      const r = await receiver();
      const formId = await newForm();
      const template = { text: 'Hi {{data.name}}', age: '{{data.age}}', raw: '<b>&</b>' };
      const hook = await createHook(formId, { url: r.url, template });
      expect(hook.template).toEqual(template);
      await submit(formId, { name: 'Ada & <Bob> "Q"', age: 36 });
      const [request] = await r.waitFor(1);
      expect(JSON.parse(request!.body)).toEqual({
        text: 'Hi Ada & <Bob> "Q"',
        age: 36,
        raw: '<b>&</b>',
      });
      expect(request!.body).toContain('"age":36');
      expect(request!.body).not.toContain('&amp;');
    });

    it('PATCH template: null removes the template: the default payload is sent again', async () => {
      const r = await receiver();
      const formId = await newForm('Untemplated');
      const hook = await createHook(formId, { url: r.url, template: { only: '{{data.name}}' } });
      const res = await hub.request({
        method: 'PATCH',
        url: `/api/v2/webhooks/${hook.id}`,
        key,
        payload: { template: null },
      });
      expect(res.statusCode, res.body).toBe(200);
      // The API shows the webhook exactly like one that never had a template...
      expect((res.json() as Hook).template).toBeNull();
      await submit(formId, { name: 'Plain' });
      const [request] = await r.waitFor(1);
      // ...so it must deliver like one (DESIGN.md, "Payload without a template").
      const body = JSON.parse(request!.body) as Record<string, unknown> | null;
      expect(body).toMatchObject({
        event: 'response.submitted',
        form: { id: formId, title: 'Untemplated' },
        response: { data: { name: 'Plain' } },
      });
      expect(body!.delivery_id).toBe(request!.headers['x-webhook-id']);
    });

    it('refuses a template that does not parse, naming where (422)', async () => {
      const formId = await newForm();
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: {
          url: 'http://127.0.0.1:9/hook',
          template: { ok: 'fine {{data.name}}', a: '{{#x}}' },
        },
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details)).toEqual(['template.a']);
      const list = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
      });
      expect(list.json().data).toEqual([]);
    });
  });

  describe('secrets', () => {
    it('rotates the secret: both the old and the new one sign for the grace period', async () => {
      const r = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      const old = hook.secret!;
      const rotated = await hub.request({
        method: 'POST',
        url: `/api/v2/webhooks/${hook.id}/rotate-secret`,
        key,
      });
      expect(rotated.statusCode, rotated.body).toBe(200);
      const fresh = (rotated.json() as Hook).secret!;
      expect(fresh).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(fresh).not.toBe(old);
      expect(rotated.json()).toMatchObject({ id: hook.id, url: r.url });

      await submit(formId, { name: 'Rotated' });
      const [request] = await r.waitFor(1);
      const headers = request!.headers as Record<string, string>;
      const v1 = headers['webhook-signature']!.split(' ');
      expect(v1).toHaveLength(2);
      for (const sig of v1) expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      const sha = headers['x-webhook-signature']!.split(',');
      expect(sha).toHaveLength(2);
      for (const sig of sha) expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);

      expect(new Webhook(fresh).verify(request!.body, headers)).toMatchObject({
        event: 'response.submitted',
      });
      expect(new Webhook(old).verify(request!.body, headers)).toMatchObject({
        event: 'response.submitted',
      });
      const hex = (secret: string) =>
        createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
          .update(`${headers['x-webhook-id']}.${headers['x-webhook-timestamp']}.${request!.body}`)
          .digest('hex');
      expect(sha.sort()).toEqual([`sha256=${hex(fresh)}`, `sha256=${hex(old)}`].sort());
      // A secret that was never this webhook's does not verify.
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(
          request!.body,
          headers,
        ),
      ).toThrow();
    });

    it('never shows the secret again on GET or in the list', async () => {
      const formId = await newForm();
      const hook = await createHook(formId, { url: 'http://127.0.0.1:9/never' });
      expect(hook.secret).toMatch(/^whsec_/);
      const rotated = (
        await hub.request({ method: 'POST', url: `/api/v2/webhooks/${hook.id}/rotate-secret`, key })
      ).json() as Hook;
      const one = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}`, key });
      const list = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
      });
      expect(one.statusCode).toBe(200);
      expect(list.statusCode).toBe(200);
      expect(one.json()).not.toHaveProperty('secret');
      expect(list.json().data).toHaveLength(1);
      expect(list.json().data[0]).not.toHaveProperty('secret');
      for (const body of [one.body, list.body]) {
        expect(body).not.toContain(hook.secret!);
        expect(body).not.toContain(rotated.secret!);
        expect(body).not.toContain('whsec_');
      }
    });

    it('POST /webhooks/:id/test sends a signed ping', async () => {
      const r = await receiver(() => ({ status: 200, body: 'pong' }));
      const formId = await newForm('Pinged');
      const hook = await createHook(formId, { url: r.url });
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/webhooks/${hook.id}/test`,
        key,
      });
      expect(res.statusCode, res.body).toBe(202);
      const delivery = res.json() as Delivery;
      expect(delivery).toMatchObject({ webhook_id: hook.id, event: 'ping' });
      const [request] = await r.waitFor(1);
      const body = JSON.parse(request!.body);
      expect(body).toMatchObject({
        event: 'ping',
        delivery_id: delivery.id,
        form: { id: formId, title: 'Pinged' },
      });
      expect(
        new Webhook(hook.secret!).verify(request!.body, request!.headers as Record<string, string>),
      ).toMatchObject({
        event: 'ping',
      });
      const done = await deliveryIn(hub, key, delivery.id, 'succeeded');
      expectLog(done.attempts, [{ status_code: 200, excerpt: 'pong', error: null }]);
    });
  });

  describe('replay and isolation', () => {
    it('bulk replay re-delivers the dead ones in the range as manual attempts', async () => {
      let failing = true;
      const r = await receiver(() =>
        failing ? { status: 503, body: 'down' } : { status: 200, body: 'up' },
      );
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      const since = new Date(Date.now() - 1_000).toISOString();
      await submit(formId, { name: 'one' });
      await submit(formId, { name: 'two' });
      const dead = await settledDeliveries(hub, key, hook.id, 2);
      expect(dead.map((d) => d.status)).toEqual(['dead', 'dead']);
      failing = false;
      await submit(formId, { name: 'three' });
      const all = await settledDeliveries(hub, key, hook.id, 3);
      const ok = all.find((d) => d.status === 'succeeded')!;
      expect(ok.attempts).toHaveLength(1);

      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/webhooks/${hook.id}/replay`,
        key,
        payload: { since, until: new Date(Date.now() + 1_000).toISOString(), status: 'dead' },
      });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toEqual({ replayed: 2 });
      const down = { status_code: 503, excerpt: 'down', error: /503/ };
      for (const d of dead) {
        const done = await deliveryIn(hub, key, d.id, 'succeeded');
        finished(done);
        expectLog(done.attempts, [
          down,
          down,
          down,
          down,
          { status_code: 200, excerpt: 'up', error: null, manual: true },
        ]);
      }
      // The succeeded one was outside the status filter: untouched.
      const again = await deliveryIn(hub, key, ok.id, 'succeeded');
      expect(again.attempts).toHaveLength(1);
      // Same delivery id on the replayed request as on the first attempts.
      const ids = r.requests.map((q) => q.headers['webhook-id']);
      expect(new Set(ids).size).toBe(3);
      expect(r.requests).toHaveLength(4 + 4 + 1 + 2);
    });

    it("another workspace's webhook and deliveries answer 404", async () => {
      const r = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url });
      await submit(formId, { name: 'mine' });
      const [d] = await settledDeliveries(hub, key, hook.id);
      const other = (await hub.workspace('Other')).key;
      const since = new Date(Date.now() - 60_000).toISOString();
      for (const [method, url, payload] of [
        ['GET', `/api/v2/webhooks/${hook.id}/deliveries`, undefined],
        ['GET', `/api/v2/webhooks/${hook.id}`, undefined],
        ['GET', `/api/v2/deliveries/${d!.id}`, undefined],
        ['POST', `/api/v2/deliveries/${d!.id}/replay`, undefined],
        ['POST', `/api/v2/webhooks/${hook.id}/replay`, { since }],
        ['POST', `/api/v2/webhooks/${hook.id}/test`, undefined],
      ] as const) {
        const res = await hub.request({ method, url, key: other, ...(payload ? { payload } : {}) });
        expectError(res, 404, 'not_found');
      }
      expect(r.requests).toHaveLength(1);
    });
  });

  describe('event subscriptions', () => {
    it("a webhook on ['response.deleted'] gets only the deletes", async () => {
      const r = await receiver();
      const sentinel = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url, events: ['response.deleted'] });
      expect(hook.events).toEqual(['response.deleted']);
      await createHook(formId, { url: sentinel.url, events: ALL_EVENTS });
      const id = await submit(formId, { name: 'Short-lived' });
      await sentinel.waitFor(1);
      const del = await hub.request({ method: 'DELETE', url: `/api/v2/responses/${id}`, key });
      expect(del.statusCode).toBe(204);
      const seen = await sentinel.waitFor(2);
      expect(seen.map((q) => JSON.parse(q.body).event).sort()).toEqual([
        'response.deleted',
        'response.submitted',
      ]);
      const [request] = await r.waitFor(1);
      expect(JSON.parse(request!.body)).toMatchObject({
        event: 'response.deleted',
        response: { id },
      });
      const deliveries = await settledDeliveries(hub, key, hook.id);
      expect(deliveries.map((d) => d.event)).toEqual(['response.deleted']);
      expect(r.requests).toHaveLength(1);
    });

    it('a partial response raises nothing; completing it by PATCH raises response.submitted', async () => {
      const r = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url, events: ALL_EVENTS });
      const partial = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { name: 'Half' }, completed: false },
      });
      expect(partial.statusCode, partial.body).toBe(201);
      const { id, resume_token: token } = partial.json() as { id: string; resume_token: string };
      const done = await hub.request({
        method: 'PATCH',
        url: `/api/v2/responses/${id}`,
        headers: { 'x-resume-token': token },
        payload: { data: { age: 40 }, completed: true },
      });
      expect(done.statusCode, done.body).toBe(200);
      const [request] = await r.waitFor(1);
      expect(JSON.parse(request!.body)).toMatchObject({
        event: 'response.submitted',
        response: { id, completed: true, data: { name: 'Half', age: 40 } },
      });
      const deliveries = await settledDeliveries(hub, key, hook.id);
      expect(deliveries.map((d) => d.event)).toEqual(['response.submitted']);
    });

    it('a PATCH of a response raises response.updated', async () => {
      const r = await receiver();
      const sentinel = await receiver();
      const formId = await newForm();
      const hook = await createHook(formId, { url: r.url, events: ['response.updated'] });
      await createHook(formId, { url: sentinel.url, events: ALL_EVENTS });
      const id = await submit(formId, { name: 'Ada', age: 36 });
      await sentinel.waitFor(1);
      const patched = await hub.request({
        method: 'PATCH',
        url: `/api/v2/responses/${id}`,
        key,
        payload: { data: { name: 'Grace' } },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      await sentinel.waitFor(2);
      const [request] = await r.waitFor(1);
      const body = JSON.parse(request!.body);
      expect(body).toMatchObject({
        event: 'response.updated',
        response: { id, data: { name: 'Grace', age: 36 } },
      });
      const deliveries = await settledDeliveries(hub, key, hook.id);
      expect(deliveries.map((d) => d.event)).toEqual(['response.updated']);
      expect(r.requests).toHaveLength(1);
    });
  });
});
