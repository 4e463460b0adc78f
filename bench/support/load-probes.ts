/**
 * What the load benchmarks read around a run: the hub's cache counters on /metrics
 * (cluster-wide sums), Redis `INFO stats`, and the CPU of every process involved.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { cpuSince, cpuSnapshot, machineCpuMs } from './cpu.ts';
import { backendPids } from './servers.ts';

/** Hits and misses per `cache|layer`, from `formhub_cache_hits_total` / `formhub_cache_misses_total`. */
export type CacheCounters = Map<string, { hits: number; misses: number }>;

/** Reads the cache counters from Prometheus text. */
export function parseCacheCounters(text: string): CacheCounters {
  const counters: CacheCounters = new Map();
  for (const match of text.matchAll(/^formhub_cache_(hits|misses)_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries(
      [...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const key = `${labels.cache ?? '?'}|${labels.layer ?? '?'}`;
    const entry = counters.get(key) ?? { hits: 0, misses: 0 };
    entry[match[1] as 'hits' | 'misses'] += Number(match[3]);
    counters.set(key, entry);
  }
  return counters;
}

export async function scrapeCacheCounters(base: string): Promise<CacheCounters> {
  const res = await fetch(`${base}/metrics`);
  if (res.headers.get('x-formhub-metrics-scope') === 'process') {
    console.warn('warning: /metrics answered for one process only, not the cluster');
  }
  return parseCacheCounters(await res.text());
}

export interface CacheRow {
  cache: string;
  layer: string;
  hits: number;
  misses: number;
  /** hits / (hits + misses) at this layer, or null without lookups. */
  hitRate: number | null;
}

/** What the counters moved by between two scrapes, one row per cache and layer. */
export function cacheDelta(before: CacheCounters, after: CacheCounters): CacheRow[] {
  return [...after.entries()]
    .map(([key, now]) => {
      const then = before.get(key) ?? { hits: 0, misses: 0 };
      const [cache, layer] = key.split('|') as [string, string];
      const hits = now.hits - then.hits;
      const misses = now.misses - then.misses;
      return {
        cache,
        layer,
        hits,
        misses,
        hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
      };
    })
    .sort((a, b) => a.cache.localeCompare(b.cache) || a.layer.localeCompare(b.layer));
}

/**
 * Per cache: the share of lookups answered by any cache layer, i.e. (L1 hits + L2 hits) /
 * L1 lookups, since every lookup starts at L1 and only L1 misses reach L2.
 */
export function overallHitRates(rows: readonly CacheRow[]): Map<string, number | null> {
  const rates = new Map<string, number | null>();
  for (const cache of new Set(rows.map((r) => r.cache))) {
    const l1 = rows.find((r) => r.cache === cache && r.layer === 'l1');
    const l2 = rows.find((r) => r.cache === cache && r.layer === 'l2');
    const lookups = l1 ? l1.hits + l1.misses : (l2?.hits ?? 0) + (l2?.misses ?? 0);
    rates.set(cache, lookups > 0 ? ((l1?.hits ?? 0) + (l2?.hits ?? 0)) / lookups : null);
  }
  return rates;
}

/** keyspace_hits and keyspace_misses of the whole Redis server (shared: others' use counts too). */
export async function redisKeyspace(url: string): Promise<{ hits: number; misses: number }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('stats');
    const field = (name: string) =>
      Number(info.match(new RegExp(`^${name}:(\\d+)`, 'm'))?.[1] ?? NaN);
    return { hits: field('keyspace_hits'), misses: field('keyspace_misses') };
  } finally {
    redis.disconnect();
  }
}

/** Pids of processes whose command name is `comm` (e.g. `redis-server`), from /proc. */
export function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The processes whose CPU a run reports, by group. */
export interface ProcessGroups {
  primary: number[];
  apiWorkers: number[];
  background: number[];
  redis: number[];
}

export interface CpuReading {
  at: number;
  loadgen: number;
  machine: number;
  groups: Map<keyof ProcessGroups, Map<number, number>>;
  postgres: Map<number, number>;
}

/** CPU counters now, for `cpuUsedSince` at the end of a run. */
export async function readCpu(groups: ProcessGroups, databaseUrl: string): Promise<CpuReading> {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    loadgen: (usage.user + usage.system) / 1000,
    machine: machineCpuMs().busy,
    groups: new Map(
      Object.entries(groups).map(([name, pids]) => [
        name as keyof ProcessGroups,
        cpuSnapshot(pids),
      ]),
    ),
    postgres: cpuSnapshot(await backendPids(databaseUrl)),
  };
}

/** CPU used since `start`, per group, in % of one core (2 cores = 200%); `rest` is the rest of the machine. */
export async function cpuUsedSince(
  start: CpuReading,
  groups: ProcessGroups,
  databaseUrl: string,
): Promise<Record<string, number>> {
  const wall = performance.now() - start.at;
  const pct = (ms: number) => Math.round((100 * ms) / wall);
  const usage = process.cpuUsage();
  const used: Record<string, number> = {
    loadgen: (usage.user + usage.system) / 1000 - start.loadgen,
  };
  for (const [name, pids] of Object.entries(groups)) {
    used[name] = cpuSince(start.groups.get(name as keyof ProcessGroups) ?? new Map(), pids);
  }
  used.postgres = cpuSince(start.postgres, await backendPids(databaseUrl));
  const machine = machineCpuMs().busy - start.machine;
  const ours = Object.values(used).reduce((a, b) => a + b, 0);
  const percent: Record<string, number> = {};
  for (const [name, ms] of Object.entries(used)) percent[name] = pct(ms);
  percent.rest = pct(Math.max(0, machine - ours));
  percent.machine = pct(machine);
  return percent;
}
