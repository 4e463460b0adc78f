/** CPU time of processes, read from /proc (Linux), to see who used the machine's cores. */

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on Linux on x86-64 and arm64. */
const TICKS_PER_SECOND = 100;

/** CPU ms (utime + stime) used so far by `pid`; 0 when it is gone. */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", utime and stime are the 12th and 13th fields; comm may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU ms used so far by each of these processes (e.g. one database's PostgreSQL backends). */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuOf(pid)]));
}

/**
 * CPU ms that the processes `pidsNow` used since `before` was taken; one missing from
 * `before` started meanwhile and counts from 0. One that exited meanwhile is not counted.
 */
export function cpuSince(before: ReadonlyMap<number, number>, pidsNow: readonly number[]): number {
  return pidsNow.reduce((sum, pid) => sum + cpuOf(pid) - (before.get(pid) ?? 0), 0);
}

/** How busy the machine is over the next `ms` milliseconds, in % of one core (200% = both cores). */
export async function machineBusyPercent(ms = 1_000): Promise<number> {
  const before = machineCpuMs();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Math.round((100 * (machineCpuMs().busy - before.busy)) / ms);
}

/** Busy and total CPU ms of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return {
    busy: ((total - idle) * 1000) / TICKS_PER_SECOND,
    total: (total * 1000) / TICKS_PER_SECOND,
  };
}

/** CPU readings taken when a measurement starts, to tell afterwards how much of the machine others took. */
export interface CpuClock {
  at: number;
  machineBusy: number;
  self: number;
  backends: Map<number, number>;
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Starts a measurement; `backends` lists the processes that work for it besides this one. */
export async function startCpuClock(backends: () => Promise<number[]>): Promise<CpuClock> {
  const snapshot = cpuSnapshot(await backends());
  return {
    at: performance.now(),
    machineBusy: machineCpuMs().busy,
    self: selfCpuMs(),
    backends: snapshot,
  };
}

/**
 * Ends a measurement: its wall time, and `others`, the CPU that every process but this one
 * and its backends used meanwhile, in % of one core (backends opened meanwhile count from 0).
 */
export async function stopCpuClock(
  clock: CpuClock,
  backends: () => Promise<number[]>,
): Promise<{ ms: number; others: number }> {
  const ms = performance.now() - clock.at;
  const machine = machineCpuMs().busy - clock.machineBusy;
  const self = selfCpuMs() - clock.self;
  const ours = cpuSince(clock.backends, await backends());
  return { ms, others: Math.max(0, Math.round((100 * (machine - self - ours)) / ms)) };
}
