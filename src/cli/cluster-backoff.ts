/**
 * When to restart a cluster worker that died: pure policy, no timers or processes.
 *
 * A worker that ran for a while (`stableAfterMs`) before dying is restarted after `baseMs`;
 * each further death soon after a restart doubles the wait, up to `maxMs`. After `maxRapidDeaths`
 * deaths in a row, each soon after its start, the worker evidently cannot run and the
 * cluster gives up rather than spin.
 */
export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  stableAfterMs: number;
  maxRapidDeaths: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseMs: 1_000,
  maxMs: 30_000,
  stableAfterMs: 30_000,
  maxRapidDeaths: 10,
};

/** What to do about one worker slot after its worker died, and the slot's new death streak. */
export type RestartDecision =
  { restart: true; delayMs: number; streak: number } | { restart: false; streak: number };

/**
 * Decides for a worker slot whose worker died after `livedMs`, with `streak` rapid deaths
 * before this one.
 *
 * @example decideRestart(120_000, 3) // -> { restart: true, delayMs: 1000, streak: 0 }
 */
export function decideRestart(
  livedMs: number,
  streak: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const next = livedMs >= policy.stableAfterMs ? 0 : streak + 1;
  if (next >= policy.maxRapidDeaths) return { restart: false, streak: next };
  const delayMs = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, next - 1));
  return { restart: true, delayMs, streak: next };
}

/** `--workers`: a count from 1 to 64, or `auto` for every core the process may use. */
export function parseWorkerCount(text: string | undefined, cores: number): number | undefined {
  if (text === undefined) return 1;
  if (text === 'auto') return Math.max(1, cores);
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : undefined;
}
