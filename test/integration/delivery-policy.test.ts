import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import { settledDeliveries, type Delivery } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * Per-integration delivery policy (DESIGN.md section 4a): a retry schedule of its own
 * instead of WEBHOOK_RETRY_SCHEDULE, a rate limit, both validated (422 naming the field),
 * read back as given, and set or cleared by PATCH.
 */
describe('delivery policy: retry schedules and validation', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let failing: Receiver;

  beforeAll(async () => {
    hub = await startHub(
      {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        // The default: one retry, 600 ms later; the webhooks' own schedules differ from it.
        WEBHOOK_RETRY_SCHEDULE: '600ms',
        WEBHOOK_TIMEOUT_MS: '1000',
      },
      { worker: true },
    );
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Policy', fields: [{ key: 'n', type: 'integer' }] },
    });
    formId = form.json().id;
    failing = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await failing?.close();
    await hub?.close();
  });

  const createWebhook = (payload: Record<string, unknown>) =>
    hub.request({ method: 'POST', url: `/api/v2/forms/${formId}/webhooks`, key, payload });

  const submit = async () => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { n: 1 } },
    });
    expect(res.statusCode).toBe(201);
  };

  /** Milliseconds between consecutive attempts of a delivery. */
  const gaps = (delivery: Delivery) =>
    delivery.attempts
      .slice(1)
      .map((a, i) => Date.parse(a.at) - Date.parse(delivery.attempts[i]!.at));

  it('a webhook retries on its own schedule, then is dead after its last step', async () => {
    const res = await createWebhook({
      url: failing.url,
      retry: { schedule: ['100ms', '200ms'] },
    });
    expect(res.statusCode, res.body).toBe(201);
    const hook = res.json() as { id: string; retry: unknown; rate_limit: unknown };
    expect(hook.retry).toEqual({ schedule: ['100ms', '200ms'] });
    expect(hook.rate_limit).toBeNull();

    await submit();
    const [delivery] = await settledDeliveries(hub, key, hook.id);
    expect(delivery!.status).toBe('dead');
    expect(delivery!.attempts.map((a) => a.number)).toEqual([1, 2, 3]);
    const [first, second] = gaps(delivery!);
    expect(first).toBeGreaterThanOrEqual(100);
    expect(second).toBeGreaterThanOrEqual(200);
    // Its own schedule, not the default's 600 ms (jitter adds at most 20%, 40 ms here).
    expect(first).toBeLessThan(600);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${hook.id}`, key });
  });

  it('without a schedule of its own, WEBHOOK_RETRY_SCHEDULE applies; PATCH null goes back to it', async () => {
    const res = await createWebhook({ url: failing.url, retry: { schedule: [] } });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    // An empty schedule: no retry at all.
    await submit();
    const [once] = await settledDeliveries(hub, key, id);
    expect(once!.status).toBe('dead');
    expect(once!.attempts).toHaveLength(1);

    const cleared = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${id}`,
      key,
      payload: { retry: null },
    });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().retry).toBeNull();
    await submit();
    const [, delivery] = await settledDeliveries(hub, key, id, 2);
    expect(delivery!.status).toBe('dead');
    expect(delivery!.attempts).toHaveLength(2);
    expect(gaps(delivery!)[0]).toBeGreaterThanOrEqual(600);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${id}`, key });
  });

  it('a rate-limited webhook waits for its slots, in the worker or re-queued, with no extra attempt', async () => {
    const receiver = await startReceiver();
    const res = await createWebhook({ url: receiver.url, rate_limit: { per_second: 2 } });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    // Slots 0, 0.5, 1 and 1.5 s away: two waits in the worker, one re-queued for its slot.
    for (let i = 0; i < 4; i++) await submit();
    const requests = await receiver.waitFor(4);
    await receiver.close();
    const gapsMs = requests.slice(1).map((r, i) => r.at - requests[i]!.at);
    // 500 ms apart (slots on Redis's clock; the receiver shares this busy event loop: some slack).
    for (const gap of gapsMs) expect(gap).toBeGreaterThanOrEqual(450);
    const deliveries = await settledDeliveries(hub, key, id, 4);
    expect(deliveries.map((d) => [d.status, d.attempts.length])).toEqual(
      Array(4).fill(['succeeded', 1]),
    );
    const metrics = (await hub.request({ method: 'GET', url: '/metrics' })).body;
    const count = (wait: string) =>
      Number(
        new RegExp(`^formhub_deliveries_rate_limited_total\\{wait="${wait}"\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1] ?? 0,
      );
    expect(count('in_process')).toBeGreaterThanOrEqual(1);
    expect(count('requeued')).toBeGreaterThanOrEqual(1);
    expect(count('limiter_down')).toBe(0);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${id}`, key });
  });

  it('reads the policy back as given, on webhooks, integrations and Zapier hooks; PATCH sets and clears', async () => {
    const policy = {
      retry: { schedule: ['10s', '1m', '10m', '1h', '6h', '1d'] },
      rate_limit: { per_second: 30 },
    };
    const webhook = await createWebhook({ url: failing.url, active: false, ...policy });
    expect(webhook.statusCode, webhook.body).toBe(201);
    const webhookId = webhook.json().id as string;
    const read = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${webhookId}`, key });
    expect(read.json()).toMatchObject(policy);

    const integration = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'webhook', config: { url: failing.url }, active: false, ...policy },
    });
    expect(integration.statusCode, integration.body).toBe(201);
    const integrationId = integration.json().id as string;
    expect(
      (
        await hub.request({ method: 'GET', url: `/api/v2/integrations/${integrationId}`, key })
      ).json(),
    ).toMatchObject(policy);

    const zap = await hub.request({
      method: 'POST',
      url: '/api/v2/zapier/hooks',
      key,
      payload: { target_url: failing.url, form_id: formId, rate_limit: { per_second: 5 } },
    });
    expect(zap.statusCode, zap.body).toBe(201);
    const zapRead = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${zap.json().id}`,
      key,
    });
    expect(zapRead.json()).toMatchObject({ retry: null, rate_limit: { per_second: 5 } });

    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${integrationId}`,
      key,
      payload: { rate_limit: null, retry: { schedule: ['500ms'] } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ rate_limit: null, retry: { schedule: ['500ms'] } });
    // A PATCH that does not name the policy leaves it alone.
    const other = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${webhookId}`,
      key,
      payload: { events: ['response.submitted'] },
    });
    expect(other.json()).toMatchObject(policy);
  });

  it('answers 422 naming the field for a bad schedule or rate limit, on every route', async () => {
    const webhookId = (await createWebhook({ url: failing.url, active: false })).json()
      .id as string;
    const bad: [Record<string, unknown>, string][] = [
      [{ retry: { schedule: Array.from({ length: 21 }, () => '1s') } }, 'retry.schedule'],
      [{ retry: { schedule: ['6d', '1d', '1s'] } }, 'retry.schedule'],
      [{ retry: { schedule: ['10s', '10x'] } }, 'retry.schedule[1]'],
      [{ retry: { schedule: ['-1s'] } }, 'retry.schedule[0]'],
      [{ retry: { schedule: '10s' } }, 'retry.schedule'],
      [{ rate_limit: { per_second: 0 } }, 'rate_limit.per_second'],
      [{ rate_limit: { per_second: -5 } }, 'rate_limit.per_second'],
      [{ rate_limit: { per_second: 2.5 } }, 'rate_limit.per_second'],
      [{ rate_limit: { per_second: '30' } }, 'rate_limit.per_second'],
    ];
    for (const [policy, field] of bad) {
      const attempts = [
        createWebhook({ url: failing.url, ...policy }),
        hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/integrations`,
          key,
          payload: { connector: 'webhook', config: { url: failing.url }, ...policy },
        }),
        hub.request({
          method: 'POST',
          url: '/api/v2/zapier/hooks',
          key,
          payload: { target_url: failing.url, form_id: formId, ...policy },
        }),
        hub.request({
          method: 'PATCH',
          url: `/api/v2/webhooks/${webhookId}`,
          key,
          payload: policy,
        }),
        hub.request({
          method: 'PATCH',
          url: `/api/v2/integrations/${webhookId}`,
          key,
          payload: policy,
        }),
      ];
      for (const res of await Promise.all(attempts)) {
        const details = expectError(res, 422, 'validation_failed');
        expect(fieldsOf(details), `${JSON.stringify(policy)}: ${res.body}`).toContain(field);
      }
    }
    // Exactly 7 days and 20 steps are allowed.
    const edge = await createWebhook({
      url: failing.url,
      active: false,
      retry: { schedule: [...Array.from({ length: 19 }, () => '0s'), '7d'] },
      rate_limit: { per_second: 1_000_000 },
    });
    expect(edge.statusCode, edge.body).toBe(201);
  });
});
