/** CPU time of processes, read from /proc (Linux), to see who used the machine's cores. */

import { readdirSync, readFileSync } from 'node:fs';

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

/** CPU ms used so far by every live process named `postgres` (the server and its backends). */
export function cpuOfPostgres(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const { ms, comm } = processCpuMs(Number(entry));
    if (comm === 'postgres') total += ms;
  }
  return total;
}

/** Busy and total CPU ms of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / TICKS_PER_SECOND, total: (total * 1000) / TICKS_PER_SECOND };
}
