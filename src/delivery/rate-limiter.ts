/**
 * Per-integration rate limits (DESIGN.md section 4a): the contract, its pure core and which
 * bucket an integration's deliveries draw from. The Redis implementation, shared by every
 * worker process, is `redis-rate-limiter.ts`.
 *
 * The limit is a GCRA (generic cell rate algorithm) without burst: a bucket keeps the
 * theoretical arrival time of its next delivery (TAT), and each delivery reserves the slot
 * at max(TAT, now) and moves TAT on by 1/rate. Deliveries are therefore spaced evenly, never
 * more than `per_second` in any second, and a delivery that must wait learns exactly how
 * long: its slot is its own, so it is re-queued once, for that time, and not re-checked.
 */

/** Zapier's published limit, and the default of a workspace's Zapier hooks together. */
export const ZAPIER_PER_SECOND = 30;

/** One delivery asking for a slot of a bucket. */
export interface SlotRequest {
  /** The bucket: one per integration, or one per workspace for its Zapier hooks. */
  bucket: string;
  perSecond: number;
}

/**
 * The rate limiter contract: reserves one slot per request (requests of one bucket in the
 * order given) and answers, for each, how many microseconds from now its slot is (0: now).
 */
export interface RateLimiter {
  reserve(requests: readonly SlotRequest[]): Promise<number[]>;
}

/** Microseconds between two deliveries of a bucket (rounded up: never faster than asked). */
export function intervalUs(perSecond: number): number {
  return Math.ceil(1_000_000 / perSecond);
}

/** The requests of one batch grouped by bucket, in order: what one Redis call reserves. */
export interface BucketGroup {
  bucket: string;
  intervalUs: number;
  /** Indexes of the group's requests in the batch, in order. */
  indexes: number[];
}

/** Groups a batch's requests by bucket (the first request of a bucket sets its interval). */
export function groupByBucket(requests: readonly SlotRequest[]): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  requests.forEach((request, index) => {
    let group = groups.get(request.bucket);
    if (!group) {
      group = { bucket: request.bucket, intervalUs: intervalUs(request.perSecond), indexes: [] };
      groups.set(request.bucket, group);
    }
    group.indexes.push(index);
  });
  return [...groups.values()];
}

/**
 * The pure core (the Lua script does the same in Redis): reserves `count` slots of a bucket
 * whose next free slot is at `tatUs` (0: never used), at time `nowUs`. Answers the wait of
 * the first slot (the others follow at `interval` each) and the bucket's new TAT.
 *
 * @example reserveSlots(0, 1_000, 33_334, 3) // { firstWaitUs: 0, tatUs: 101_002 }
 */
export function reserveSlots(
  tatUs: number,
  nowUs: number,
  interval: number,
  count: number,
): { firstWaitUs: number; tatUs: number } {
  const start = Math.max(tatUs, nowUs);
  return { firstWaitUs: start - nowUs, tatUs: start + interval * count };
}

/** Spreads each group's first wait over its requests: the i-th waits i intervals more. */
export function waitsOf(
  groups: readonly BucketGroup[],
  firstWaitsUs: readonly number[],
  size: number,
): number[] {
  const waits = new Array<number>(size).fill(0);
  groups.forEach((group, g) => {
    const first = firstWaitsUs[g] ?? 0;
    group.indexes.forEach((index, i) => (waits[index] = first + i * group.intervalUs));
  });
  return waits;
}

/**
 * A rate limiter in one process's memory: the oracle of the Redis one in tests, and enough
 * where only one worker runs. `now` answers microseconds.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>();

  constructor(private readonly now: () => number = () => Math.round(performance.now() * 1000)) {}

  reserve(requests: readonly SlotRequest[]): Promise<number[]> {
    const groups = groupByBucket(requests);
    const now = this.now();
    const firsts = groups.map((group) => {
      const slots = reserveSlots(
        this.tats.get(group.bucket) ?? 0,
        now,
        group.intervalUs,
        group.indexes.length,
      );
      this.tats.set(group.bucket, slots.tatUs);
      return slots.firstWaitUs;
    });
    return Promise.resolve(waitsOf(groups, firsts, requests.length));
  }
}

/** What the rate limit needs of an integration row. */
export interface RateLimitedIntegration {
  id: string;
  workspace_id: string;
  connector: string;
  rate_limit_per_second: number | null;
}

/**
 * The bucket an integration's deliveries draw from: its own limit when it has one; else,
 * for a Zapier hook, the workspace's Zapier bucket at Zapier's 30 per second (all Zapier
 * hooks of a workspace share it, as Zapier counts per account); else none.
 */
export function bucketOf(integration: RateLimitedIntegration): SlotRequest | undefined {
  if (integration.rate_limit_per_second) {
    return { bucket: `i:${integration.id}`, perSecond: integration.rate_limit_per_second };
  }
  if (integration.connector === 'zapier') {
    return { bucket: `zapier:${integration.workspace_id}`, perSecond: ZAPIER_PER_SECOND };
  }
  return undefined;
}
