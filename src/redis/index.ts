/** Redis: every connection the hub opens (`openRedis`), the shared client, the start-up probe. */
export type { Redis } from 'ioredis';
export { createRedis, openRedis, type RedisConnectionKind } from './connection.ts';
export { checkRedis, describeRedis } from './check-redis.ts';
