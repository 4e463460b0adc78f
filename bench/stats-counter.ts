/**
 * The CPU cost of counting one attempt for the delivery stats (DeliveryStats.recordAttempt,
 * docs/BENCHMARKS.md "Delivery stats"): 3 rounds of 1,000,000 calls over 20 integrations,
 * in process, nothing written (the database is never reached).
 *
 *   npm run bench:stats-counter
 *
 * Environment: STATS_COUNTER_CALLS (1000000 per round).
 */
import pino from 'pino';
import { DeliveryStats } from '../src/delivery/index.ts';
import { envInt, round as rounded } from './support/stats.ts';

const stats = new DeliveryStats({} as never, pino({ level: 'silent' }));
const ids = Array.from(
  { length: 20 },
  (_, i) => `0193aaaa-bbbb-7ccc-8ddd-${String(i).padStart(12, '0')}`,
);
const calls = envInt('STATS_COUNTER_CALLS', 1_000_000);
const perCallUs: number[] = [];
for (let round = 1; round <= 3; round++) {
  const before = process.cpuUsage();
  const at = new Date();
  for (let i = 0; i < calls; i++)
    stats.recordAttempt(ids[i % 20]!, at, i % 10 !== 0, i % 100 === 0, (i % 500) + 1);
  const used = process.cpuUsage(before);
  const perCall = (used.user + used.system) / calls;
  perCallUs.push(perCall);
  console.log(`round ${round}: ${perCall.toFixed(3)} us of CPU per recordAttempt`);
}
console.log(
  JSON.stringify({
    bench: 'stats-counter',
    calls,
    cpu_us_per_attempt: perCallUs.map((us) => rounded(us, 3)),
  }),
);
