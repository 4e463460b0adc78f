import { describe, expect, it } from 'vitest';
import { redisStatement } from '../../src/tracing/redis-statement.ts';

describe('what a Redis span records of its command', () => {
  it('keeps the command and its key, never a value', () => {
    expect(redisStatement('incr', ['p:rl:ip:127.0.0.1:1'])).toBe('incr p:rl:ip:127.0.0.1:1');
    expect(redisStatement('set', ['p:cache:form:1', '{"secret":"x"}', 'PX', 60000])).toBe(
      'set p:cache:form:1 [3 other arguments]',
    );
    expect(redisStatement('ping', [])).toBe('ping [0 arguments]');
  });

  it('keeps nothing but the count of a script call (BullMQ job data travels in its arguments)', () => {
    const statement = redisStatement('evalsha', [
      '5ab4',
      9,
      'p:bull:deliveries:wait',
      '{"to":"a@b.c"}',
    ]);
    expect(statement).toBe('evalsha [4 arguments]');
  });
});
