/**
 * The checks of DESIGN.md section 4c, third bullet, over one topology (test/e2e/multi-host
 * runs them on network namespaces, test/e2e/multi-process on 127.0.0.1): many `formhub api`
 * and `formhub worker` processes share one PostgreSQL and one Redis; every event is
 * delivered, a killed host loses nothing, caches stay coherent, a download works from any host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busSubscribed } from './cache-bus.ts';
import {
  ADMIN,
  call,
  deliveriesOf,
  eventsOf,
  formWithWebhooks,
  startCluster,
  submitSpread,
  type Cluster,
  type DeliveryRow,
} from './multi-host-cluster.ts';
import type { Role, Topology } from './multi-host.ts';
import type { ReceivedHit } from './receiver-host.ts';
import { waitUntil } from './resilience.ts';

/** Deliveries acknowledged more than once without an excuse: a failed attempt, or in flight at `killedAt`. */
function unexcusedDuplicates(rows: DeliveryRow[], hits: ReceivedHit[], killedAt = 0): string[] {
  return rows
    .filter((d) => {
      const mine = hits.filter((h) => h.webhookId === d.id);
      const acked = mine.filter((h) => h.acknowledged).length;
      const inFlightAtKill = mine.some((h) => h.at <= killedAt);
      return acked > 1 && d.failed_attempts === 0 && !inFlightAtKill;
    })
    .map((d) => d.id);
}

/** Deliveries whose receiver never acknowledged a request. */
function unacknowledged(rows: DeliveryRow[], hits: ReceivedHit[]): string[] {
  const acked = new Set(hits.filter((h) => h.acknowledged).map((h) => h.webhookId));
  return rows.filter((d) => !acked.has(d.id)).map((d) => d.id);
}

/** Which host sent each hit, by address (network namespaces only; on one host it is unknowable afterwards). */
function senders(topology: Topology, hits: ReceivedHit[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const hit of hits) {
    const role =
      topology.kind === 'netns'
        ? (Object.values(topology.hosts).find((h) => h.address === hit.from)?.role ?? hit.from)
        : 'a worker on 127.0.0.1';
    counts[role] = (counts[role] ?? 0) + 1;
  }
  return counts;
}

export function multiHostSuite(name: string, makeTopology: () => Promise<Topology>): void {
  describe.sequential(name, () => {
    let cluster: Cluster;
    let key: string;
    let spreadForm: string;

    const hitsOf = async (formId: string) =>
      (await cluster.receiver.records()).filter((h) => h.path.startsWith(`/hook/${formId}/`));

    /** Waits until every delivery of `formId` succeeded and was acknowledged, `count` in all. */
    async function settled(formId: string, count: number, timeoutMs: number) {
      let rows: DeliveryRow[] = [];
      let hits: ReceivedHit[] = [];
      await waitUntil(
        async () => {
          rows = await deliveriesOf(cluster, formId);
          hits = await hitsOf(formId);
          return (
            rows.length === count &&
            rows.every((d) => d.status === 'succeeded') &&
            unacknowledged(rows, hits).length === 0
          );
        },
        timeoutMs,
        `${count} deliveries succeeded and acknowledged`,
        200,
      ).catch((error: Error) => {
        const statuses = rows.reduce<Record<string, number>>(
          (acc, d) => ({ ...acc, [d.status]: (acc[d.status] ?? 0) + 1 }),
          {},
        );
        throw new Error(
          `${error.message}: ${rows.length} deliveries ${JSON.stringify(statuses)}, ` +
            `${unacknowledged(rows, hits).length} unacknowledged`,
        );
      });
      return { rows, hits };
    }

    beforeAll(async () => {
      cluster = await startCluster(makeTopology);
      const ws = await call(cluster.apiBase['api-a'], 'POST', '/workspaces', {
        key: ADMIN,
        body: { name: 'multi-host' },
      });
      expect(ws.status, ws.text).toBe(201);
      key = String(ws.json.api_key);
    }, 240_000);

    afterAll(async () => cluster?.close(), 120_000);

    it('delivers every event of 200 submissions spread over both APIs, once per integration', async () => {
      const { formId, webhookIds } = await formWithWebhooks(cluster, key, 'Spread', 2);
      spreadForm = formId;
      const { ids, statusesByApi } = await submitSpread(cluster, formId, 200);
      expect(statusesByApi['api-a']).toEqual(Array(100).fill(201));
      expect(statusesByApi['api-b']).toEqual(Array(100).fill(201));

      const started = Date.now();
      const { rows, hits } = await settled(formId, 400, 60_000);
      const events = await eventsOf(cluster, formId);
      expect(events).toHaveLength(200);
      const expected = events.flatMap((e) => webhookIds.map((w) => `${e}/${w}`)).sort();
      expect(rows.map((d) => `${d.event_id}/${d.integration_id}`).sort()).toEqual(expected);
      for (const [i, webhookId] of webhookIds.entries()) {
        const path = `/hook/${formId}/${i}`;
        const received = new Set(hits.filter((h) => h.path === path).map((h) => h.responseId));
        expect(received, `every response reached webhook ${webhookId}`).toEqual(new Set(ids));
      }
      expect(unexcusedDuplicates(rows, hits)).toEqual([]);
      console.log(
        `[${cluster.topology.kind}] 400 deliveries settled ${Date.now() - started} ms after the last submission; ` +
          `${hits.length} requests, ${hits.length - new Set(hits.map((h) => h.webhookId)).size} repeats, ` +
          `${rows.filter((d) => d.failed_attempts > 0).length} deliveries with a failed attempt; ` +
          `senders ${JSON.stringify(senders(cluster.topology, hits))}`,
      );
    }, 120_000);

    it('shows a form change made on one API on the other within a second', async () => {
      const [a, b] = [cluster.apiBase['api-a'], cluster.apiBase['api-b']];
      const form = await call(a, 'POST', '/forms', {
        key,
        body: { title: 'v1', status: 'published', fields: [{ key: 'q', type: 'text' }] },
      });
      expect(form.status, form.text).toBe(201);
      const schema = `/forms/${String(form.json.id)}/schema`;
      // Both APIs hold the schema in L1 (CACHE_L1_TTL is 5 minutes).
      for (const base of [a, b, b, a])
        expect((await call(base, 'GET', schema)).json.title).toBe('v1');
      // Every process's cache bus is subscribed (Redis acknowledged it), APIs and workers.
      await busSubscribed(cluster.redis, cluster.prefix, 4);

      for (const [writer, reader, title] of [
        [a, b, 'v2'],
        [b, a, 'v3'],
      ] as const) {
        const patched = await call(writer, 'PATCH', `/forms/${String(form.json.id)}`, {
          key,
          body: { title },
        });
        expect(patched.status, patched.text).toBe(200);
        const answeredAt = Date.now();
        let seen: unknown;
        for (;;) {
          seen = (await call(reader, 'GET', schema)).json.title;
          if (seen === title || Date.now() - answeredAt > 1_000) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        const ms = Date.now() - answeredAt;
        console.log(`[${cluster.topology.kind}] ${title} seen on the other API after ${ms} ms`);
        expect(seen, `the other API still serves the old title ${ms} ms after the PATCH`).toBe(
          title,
        );
        expect(ms).toBeLessThanOrEqual(1_000);
      }
    }, 60_000);

    it('serves an export made on api-a from api-b', async () => {
      const [a, b] = [cluster.apiBase['api-a'], cluster.apiBase['api-b']];
      const job = await call(a, 'POST', `/forms/${spreadForm}/exports`, {
        key,
        body: { format: 'csv' },
      });
      expect(job.status, job.text).toBe(202);
      const path = `/exports/${String(job.json.id)}`;
      let last: Record<string, unknown> = {};
      await waitUntil(
        async () => (last = (await call(a, 'GET', path, { key })).json).status === 'succeeded',
        30_000,
        'the export job succeeds',
        100,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(last)}`);
      });
      const fromA = await call(a, 'GET', `${path}/download`, { key });
      expect(fromA.status, fromA.text).toBe(200);
      expect(fromA.text.trim().split('\n')).toHaveLength(201);
      const fromB = await call(b, 'GET', `${path}/download`, { key });
      // On hosts of their own (each DATA_DIR a disk of its own) this needs the file in
      // PostgreSQL (DESIGN.md 4c, first bullet): before, api-b answered 404, the file being on
      // api-a's disk. On one host every process reads every file, whichever store it is in.
      expect(fromB.status, `api-b: ${fromB.text}`).toBe(200);
      expect(fromB.text).toBe(fromA.text);
    }, 60_000);

    it('loses nothing when worker-a is SIGKILLed mid-delivery: worker-b delivers the rest', async () => {
      const workerA = cluster.processes['worker-a']!;
      const pids = new Map<number, Role>([
        [workerA.pid, 'worker-a'],
        [cluster.processes['worker-b']!.pid, 'worker-b'],
      ]);
      await cluster.receiver.hold(2_000);
      const { formId } = await formWithWebhooks(cluster, key, 'Kill', 1);
      const { ids } = await submitSpread(cluster, formId, 60);
      expect(ids).toHaveLength(60);

      // worker-a is mid-delivery: the receiver holds a request whose connection is worker-a's
      // (the newest such, so that most of the hold is still ahead when the kill lands).
      let caught: ReceivedHit | undefined;
      await waitUntil(
        async () => {
          const held = (await hitsOf(formId)).filter((h) => h.answeredAt === null && !h.abandoned);
          for (const hit of held.reverse()) {
            if ((await cluster.topology.senderOf(hit, pids)) !== 'worker-a') continue;
            caught = hit;
            break;
          }
          return caught !== undefined;
        },
        30_000,
        'worker-a holding a request at the receiver',
        20,
      );
      workerA.signal('SIGKILL');
      await workerA.exited;
      const killedAt = Date.now();
      await cluster.receiver.hold(0);

      const { rows, hits } = await settled(formId, 60, 90_000);
      const recoveredMs =
        Math.max(...hits.filter((h) => h.acknowledged).map((h) => h.at)) - killedAt;
      const caughtNow = hits.find((h) => h.webhookId === caught!.webhookId && h.at === caught!.at);
      expect(caughtNow?.acknowledged, 'the request worker-a held was never answered to it').toBe(
        false,
      );
      expect(rows.every((d) => d.status === 'succeeded')).toBe(true);
      expect(new Set(hits.filter((h) => h.acknowledged).map((h) => h.responseId))).toEqual(
        new Set(ids),
      );
      expect(unexcusedDuplicates(rows, hits, killedAt)).toEqual([]);
      const after = hits.filter((h) => h.at > killedAt);
      if (cluster.topology.kind === 'netns')
        expect(after.every((h) => h.from === cluster.topology.hosts['worker-b'].address)).toBe(
          true,
        );
      console.log(
        `[${cluster.topology.kind}] kill: ${hits.filter((h) => h.at <= killedAt).length} requests before the kill ` +
          `(${hits.filter((h) => h.abandoned).length} abandoned by the killed worker), ${after.length} after; ` +
          `all 60 acknowledged ${recoveredMs} ms after the kill; senders after the kill ${JSON.stringify(senders(cluster.topology, after))}`,
      );
    }, 150_000);
  });
}
