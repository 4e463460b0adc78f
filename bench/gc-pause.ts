/**
 * What a full GC asked for by exports costs the event loop (src/exports/gc-hint.ts: one after
 * every 16 MB exported and every second of PDF rendering). V8's forced collection is one
 * stop-the-world pause whose length follows the live heap, not the garbage; this keeps a
 * live heap of the hub's kind (many small objects: parsed rows, cached forms, queue records)
 * at several sizes and times the same forced collection the hub runs, in this process; and,
 * beside it, the young-generation collection (scavenge) that the main thread runs instead
 * once exports are formatted on export threads (gc-hint.ts `countReceivedBytes`).
 *
 *   npm run bench:gc
 *
 * Environment: GC_HEAPS_MB (50,200,500,1000: live heap sizes), GC_RUNS (5 per size).
 */
import { performance } from 'node:perf_hooks';
import { forceFullGc, forceYoungGc } from '../src/exports/gc-hint.ts';
import { percentiles, printTable, round } from './support/stats.ts';

const SIZES = (process.env.GC_HEAPS_MB ?? '50,200,500,1000').split(',').map(Number);
const RUNS = Number(process.env.GC_RUNS ?? 5);

/** About 1 KB of live objects shaped like a stored response. */
function record(i: number) {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    submitted_at: new Date(1_700_000_000_000 + i),
    data: {
      name: `name ${i}`,
      email: `user${i}@example.com`,
      age: i % 90,
      tags: ['a', 'b', String(i % 7)],
    },
    metadata: { source: 'bench', ua: 'Mozilla/5.0 (X11; Linux x86_64)'.repeat(4), n: i },
  };
}

/** Allocates ~50,000 short-lived objects and drops them. */
function churn(): number {
  return Array.from({ length: 50_000 }, (_, i) => ({ i, s: `chunk ${i}` })).length;
}

const live: unknown[] = [];
const rows: (string | number)[][] = [];
const used = () => process.memoryUsage().heapUsed / 1024 / 1024;
for (const mb of SIZES) {
  while (used() < mb) for (let i = 0; i < 10_000; i++) live.push(record(live.length));
  forceFullGc(); // settle: what is measured next is a collection of a heap that is all live
  const pauses: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    forceFullGc();
    pauses.push(performance.now() - started);
  }
  const p = percentiles(Float64Array.from(pauses));
  // What the main thread now runs instead while export threads send it chunks (gc-hint.ts).
  const young: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    churn(); // young garbage for the scavenge to sweep, as written chunks' views are
    const started = performance.now();
    forceYoungGc();
    young.push(performance.now() - started);
  }
  rows.push([
    round(used(), 0),
    live.length,
    round(Math.min(...pauses), 1),
    round(p.p50, 1),
    round(Math.max(...pauses), 1),
    round(percentiles(Float64Array.from(young)).p50, 1),
    round(Math.max(...young), 1),
  ]);
}
const [mbs, objects, mins, medians, maxes] = [0, 1, 2, 3, 4].map((c) => rows.map((r) => r[c]));
console.log(JSON.stringify({ bench: 'gc-pause', mbs, objects, mins, medians, maxes }));
printTable(
  'Forced full GC pause',
  [
    'live heap MB',
    'objects',
    'min ms',
    'median ms',
    'max ms',
    'scavenge median ms',
    'scavenge max ms',
  ],
  rows,
);
