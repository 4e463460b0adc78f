import type { TestHub } from './hub.ts';
import { eventually } from './receiver.ts';

/** One logged attempt, as the API shows it (DESIGN.md, "Webhooks"). */
export interface Attempt {
  number: number;
  at: string;
  status_code: number;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  manual: boolean;
}

/** A delivery with its attempt log. */
export interface Delivery {
  id: string;
  webhook_id: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed' | 'dead';
  created_at: string;
  next_attempt_at: string | null;
  attempts: Attempt[];
}

/** `GET /api/v2/{webhooks|integrations}/:id/deliveries`, newest first. */
export async function listDeliveries(
  hub: TestHub,
  key: string,
  id: string,
  kind: 'webhooks' | 'integrations' = 'webhooks',
  query = '',
): Promise<Delivery[]> {
  const res = await hub.request({
    method: 'GET',
    url: `/api/v2/${kind}/${id}/deliveries${query}`,
    key,
  });
  if (res.statusCode !== 200) throw new Error(`deliveries: ${res.statusCode} ${res.body}`);
  return (res.json() as { data: Delivery[] }).data;
}

/**
 * Waits until an integration has `count` deliveries, all finished (succeeded or dead), and
 * answers them oldest first.
 */
export function settledDeliveries(
  hub: TestHub,
  key: string,
  id: string,
  count = 1,
  kind: 'webhooks' | 'integrations' = 'webhooks',
  timeoutMs = 15_000,
): Promise<Delivery[]> {
  return eventually(async () => {
    const data = await listDeliveries(hub, key, id, kind);
    const done = data.filter((d) => d.status === 'succeeded' || d.status === 'dead');
    return data.length === count && done.length === count ? [...data].reverse() : undefined;
  }, timeoutMs);
}

/** Waits until one delivery is in `status` (e.g. after a replay) and answers it. */
export function deliveryIn(
  hub: TestHub,
  key: string,
  deliveryId: string,
  status: Delivery['status'],
  timeoutMs = 15_000,
): Promise<Delivery> {
  return eventually(async () => {
    const res = await hub.request({ method: 'GET', url: `/api/v2/deliveries/${deliveryId}`, key });
    const delivery = res.json() as Delivery;
    return res.statusCode === 200 && delivery.status === status ? delivery : undefined;
  }, timeoutMs);
}
