import type { Redis } from '../redis/index.ts';
import { groupByBucket, waitsOf, type RateLimiter, type SlotRequest } from './rate-limiter.ts';

/**
 * `reserveSlots` of rate-limiter.ts for each bucket of a batch, atomically, on Redis's clock
 * (so every worker process, on any host, sees one time). KEYS: the buckets; ARGV: each
 * bucket's interval and count in turn. Answers each bucket's first wait, in microseconds.
 * A bucket's key expires a second after its last reserved slot: an idle bucket costs nothing.
 */
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local waits = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local count = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  waits[i] = tat - now
  local after = tat + interval * count
  redis.call('SET', key, string.format('%.0f', after), 'PX', math.floor((after - now) / 1000) + 1000)
end
return waits
`;

type ReserveCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number[]>;

/**
 * The rate limiter every worker process shares: the buckets live in Redis and one Lua script
 * reserves a whole batch's slots in one round trip. When Redis does not answer, `reserve`
 * rejects; the caller decides (the engine then lets the delivery wait in PostgreSQL).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly command: ReserveCommand;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    // defineCommand sends EVALSHA, and the script itself only when Redis does not know it.
    if (!('formhubReserveSlots' in redis)) {
      redis.defineCommand('formhubReserveSlots', { lua: RESERVE_SCRIPT });
    }
    const bound = (redis as unknown as { formhubReserveSlots: ReserveCommand }).formhubReserveSlots;
    this.command = bound.bind(redis);
  }

  async reserve(requests: readonly SlotRequest[]): Promise<number[]> {
    if (requests.length === 0) return [];
    const groups = groupByBucket(requests);
    const keys = groups.map((g) => `${this.prefix}rate:${g.bucket}`);
    const args = groups.flatMap((g) => [g.intervalUs, g.indexes.length]);
    const firsts = await this.command(keys.length, ...keys, ...args);
    return waitsOf(groups, firsts.map(Number), requests.length);
  }
}
