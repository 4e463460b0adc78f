import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';
import { mulberry32 } from '../support/random.ts';

const DAY = 86_400_000;
/**
 * The one instant this file runs at: the hub's forecasts and trends are computed for it (its
 * clock is pinned) and the expected days below count from it, so both sides name the same
 * "today" even when the run crosses midnight UTC.
 */
const NOW = new Date();
const TODAY = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate());
const utcDay = (offset: number) => new Date(TODAY + offset * DAY).toISOString().slice(0, 10);

describe('forecasts and trends', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let receiver: Receiver;
  const counts = new Map<string, number>();
  const dropDay = utcDay(-5);

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
      { worker: true, clock: () => NOW },
    );
    key = (await hub.workspace()).key;
    formId = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'Daily', fields: [{ key: 'n', type: 'integer' }] },
      })
    ).json().id;
    receiver = await startReceiver();
    await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url, events: ['analytics.anomaly'] },
    });
    // 26 weeks of history up to yesterday: a trend, quiet weekends, noise, and a 40% drop 5 days ago.
    const random = mulberry32(7);
    const lines: string[] = [];
    for (let offset = -182; offset <= -1; offset++) {
      const date = utcDay(offset);
      const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
      const base = (40 + (offset + 182) * 0.1) * (weekday === 0 || weekday === 6 ? 0.4 : 1);
      let count = Math.max(0, Math.round(base + (random() - 0.5) * 0.2 * base));
      if (date === dropDay) count = Math.round(count * 0.6);
      counts.set(date, count);
      for (let i = 0; i < count; i++) {
        lines.push(
          JSON.stringify({
            data: { n: i },
            submitted_at: `${date}T${String(8 + (i % 12)).padStart(2, '0')}:00:00Z`,
          }),
        );
      }
    }
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: lines.join('\n'),
    });
    expect(res.statusCode, res.body).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it('forecasts the 7 days after today with intervals, better than the seasonal-naive baseline', async () => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/predict/next-week?form_id=${formId}`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.forecast.map((p: { date: string }) => p.date)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map(utcDay),
    );
    for (const p of body.forecast) {
      expect(Number.isInteger(p.expected)).toBe(true);
      expect(p.low).toBeLessThanOrEqual(p.expected);
      expect(p.high).toBeGreaterThanOrEqual(p.expected);
      expect(p.low).toBeGreaterThanOrEqual(0);
    }
    expect(body.total).toBe(
      body.forecast.reduce((s: number, p: { expected: number }) => s + p.expected, 0),
    );
    expect(body.model).toMatchObject({ kind: 'ensemble', training_days: 182 });
    expect(body.model.mape).toBeLessThan(body.model.baseline_mape);
    // Weekdays are forecast well above weekends, as in the history.
    const weekday = body.forecast.filter(
      (p: { date: string }) => ![0, 6].includes(new Date(`${p.date}T00:00:00Z`).getUTCDay()),
    );
    const weekend = body.forecast.filter((p: { date: string }) =>
      [0, 6].includes(new Date(`${p.date}T00:00:00Z`).getUTCDay()),
    );
    expect(Math.min(...weekday.map((p: { expected: number }) => p.expected))).toBeGreaterThan(
      Math.max(...weekend.map((p: { expected: number }) => p.expected)),
    );
    // The stored model answers again without retraining.
    const again = (
      await hub.request({
        method: 'GET',
        url: `/api/v2/analytics/predict/next-week?form_id=${formId}`,
        key,
      })
    ).json();
    expect(again.model.trained_at).toBe(body.model.trained_at);
  });

  it('forecasts the whole workspace without form_id, and 404s another workspace form', async () => {
    const res = await hub.request({
      method: 'GET',
      url: '/api/v2/analytics/predict/next-week',
      key,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().forecast).toHaveLength(7);
    const other = await hub.workspace('other');
    const denied = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/predict/next-week?form_id=${formId}`,
      key: other.key,
    });
    expect(denied.statusCode).toBe(404);
  });

  it('reports week-over-week change and the injected drop; the daily scan alerts integrations once', async () => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/forms/${formId}/trends`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    const thisWeek = [-6, -5, -4, -3, -2, -1].reduce((s, o) => s + (counts.get(utcDay(o)) ?? 0), 0);
    const lastWeek = [-13, -12, -11, -10, -9, -8, -7].reduce(
      (s, o) => s + (counts.get(utcDay(o)) ?? 0),
      0,
    );
    expect(body).toMatchObject({ this_week: thisWeek, last_week: lastWeek });
    expect(body.change).toBeCloseTo(thisWeek / lastWeek - 1, 10);
    const drop = body.anomalies.find((a: { date: string }) => a.date === dropDay);
    expect(drop).toMatchObject({ count: counts.get(dropDay) });
    expect(drop.expected).toBeGreaterThan(drop.count);
    const anomalyEvents = async () => {
      const { rows } = await hub.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE form_id = $1 AND event_type = 'analytics.anomaly' AND payload->'anomaly'->>'date' = $2`,
        [formId, dropDay],
      );
      return rows[0]!.n;
    };
    // Reading trends writes nothing: the worker's daily job raises the event.
    expect(await anomalyEvents()).toBe(0);
    await hub.services.insights.scanAnomalies();

    const [request] = await receiver.waitFor(1);
    const payload = JSON.parse(request!.body);
    expect(payload).toMatchObject({ event: 'analytics.anomaly', form: { id: formId } });
    expect(payload.anomaly).toMatchObject({ date: dropDay, count: counts.get(dropDay) });
    await hub.services.insights.scanAnomalies();
    expect(await eventually(anomalyEvents)).toBe(1);
  });
});
