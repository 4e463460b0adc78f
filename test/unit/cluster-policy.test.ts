import { describe, expect, it } from 'vitest';
import {
  decideRestart,
  DEFAULT_RESTART_POLICY,
  parseWorkerCount,
} from '../../src/cli/cluster-backoff.ts';
import { splitPool } from '../../src/cli/cluster-pool.ts';

describe('cluster restart policy', () => {
  it('restarts a worker that ran a while after the base delay and forgets earlier deaths', () => {
    expect(decideRestart(120_000, 3)).toEqual({ restart: true, delayMs: 1_000, streak: 0 });
  });

  it('doubles the wait for each death soon after a start, up to the maximum', () => {
    const delays: number[] = [];
    let streak = 0;
    for (let i = 0; i < 9; i++) {
      const decision = decideRestart(500, streak);
      if (!decision.restart) throw new Error('gave up too early');
      delays.push(decision.delayMs);
      streak = decision.streak;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('gives up after maxRapidDeaths deaths in a row', () => {
    expect(decideRestart(500, DEFAULT_RESTART_POLICY.maxRapidDeaths - 1)).toEqual({
      restart: false,
      streak: DEFAULT_RESTART_POLICY.maxRapidDeaths,
    });
  });

  it('reads --workers as a count from 1 to 64 or auto', () => {
    expect(parseWorkerCount(undefined, 8)).toBe(1);
    expect(parseWorkerCount('auto', 2)).toBe(2);
    expect(parseWorkerCount('3', 2)).toBe(3);
    for (const bad of ['0', '65', '1.5', 'two', ''])
      expect(parseWorkerCount(bad, 2)).toBeUndefined();
  });
});

describe('database pool per cluster worker', () => {
  it('splits DATABASE_POOL_MIN/MAX among the workers, rounding up', () => {
    expect(splitPool({ poolMin: 10, poolMax: 50 }, 2)).toEqual({
      DATABASE_POOL_MIN: '5',
      DATABASE_POOL_MAX: '25',
    });
    expect(splitPool({ poolMin: 10, poolMax: 50 }, 3)).toEqual({
      DATABASE_POOL_MIN: '4',
      DATABASE_POOL_MAX: '17',
    });
    expect(splitPool({ poolMin: 0, poolMax: 1 }, 4)).toEqual({
      DATABASE_POOL_MIN: '0',
      DATABASE_POOL_MAX: '1',
    });
  });
});
