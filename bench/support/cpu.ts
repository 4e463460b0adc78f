/** CPU time of processes, read from /proc (Linux), to see who used the machine's cores. */

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on Linux on x86-64 and arm64. */
const TICKS_PER_SECOND = 100;

/** utime + stime of one process, ms; 0 when it is gone. */
function processCpuMs(pid: number): { ms: number; comm: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ", utime and stime are the 12th and 13th fields.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { ms: (ticks * 1000) / TICKS_PER_SECOND, comm };
  } catch {
    return { ms: 0, comm: '' };
  }
}

/** CPU ms used so far by `pid`. */
export function cpuOf(pid: number): number {
  return processCpuMs(pid).ms;
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
