/**
 * Samples what one database's PostgreSQL backends are doing (pg_stat_activity) every few
 * milliseconds, from a connection of its own: a cheap wait-event profile. A backend that is
 * `active` with no wait event is on the CPU (or runnable); `ClientRead` inside a transaction
 * waits for the application; `IO:WALSync` waits for the commit's fsync; `Lock:*` waits for
 * another transaction's row lock.
 */

import pg from 'pg';

export interface WaitProfile {
  samples: number;
  /** Mean number of backends that were not idle. */
  meanBusy: number;
  /** `state wait_type:wait_event` -> share of the busy backend samples (0..1), largest first. */
  shares: { what: string; share: number }[];
}

export interface PgSampler {
  stop(): Promise<WaitProfile>;
}

export async function startPgSampler(databaseUrl: string, everyMs = 50): Promise<PgSampler> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const tally = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let running = true;
  const loop = (async () => {
    // Bounded by `stop`; each round is one small query.
    while (running) {
      const started = performance.now();
      const { rows } = await client.query<{
        state: string | null;
        type: string | null;
        event: string | null;
      }>(
        `SELECT state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
           AND state IS NOT NULL AND state <> 'idle'`,
      );
      samples++;
      for (const row of rows) {
        const what = `${row.state}${row.type ? ` ${row.type}:${row.event}` : ' (on CPU)'}`;
        tally.set(what, (tally.get(what) ?? 0) + 1);
        busy++;
      }
      const wait = everyMs - (performance.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
      const shares = [...tally.entries()]
        .map(([what, n]) => ({ what, share: busy > 0 ? n / busy : 0 }))
        .sort((a, b) => b.share - a.share);
      return { samples, meanBusy: samples > 0 ? busy / samples : 0, shares };
    },
  };
}

/** Redis's per-command call counts and time (INFO commandstats), for a before/after difference. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

export function parseCommandStats(info: string): CommandStats {
  const out: CommandStats = new Map();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** `after - before`, commands with calls only, most called first. */
export function commandStatsDelta(before: CommandStats, after: CommandStats) {
  const rows: { command: string; calls: number; usec: number }[] = [];
  for (const [command, a] of after) {
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) rows.push({ command, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return rows.sort((x, y) => y.calls - x.calls);
}
