import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Redis } from '../redis/index.ts';

export interface WorkerDeps {
  config: Config;
  db: Database;
  redis: Redis;
  logger: Logger;
}

/** A running worker; `close` lets in-flight jobs finish, then stops. */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * Starts the background side of the hub. The job processors (outbox relay, deliveries,
 * analytics, reports) register here as their modules land; until then the worker only
 * reports how many events wait in the outbox.
 */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { rows } = await deps.db.query<{ pending: number }>(
    'SELECT count(*)::int AS pending FROM outbox WHERE dispatched_at IS NULL',
  );
  deps.logger.info({ pendingEvents: rows[0]?.pending ?? 0 }, 'worker started (no job processors registered yet)');
  return { close: async () => undefined };
}
