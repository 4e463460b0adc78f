import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { decideRestart, DEFAULT_RESTART_POLICY, type RestartPolicy } from './cluster-backoff.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import { splitPool } from './cluster-pool.ts';
import { configure, connect } from './startup.ts';

/** How long the primary waits for its workers' graceful shutdown (each allows itself 30 s). */
const SHUTDOWN_TIMEOUT_MS = 35_000;

interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  streak: number;
  timer?: NodeJS.Timeout;
}

/**
 * `formhub api --workers N`, in the primary process: checks the configuration, Redis and
 * PostgreSQL and applies migrations once (on the embedded database, it keeps it open and
 * the workers use it through its socket), then forks N workers that each run `formhub api`
 * on the same port (the primary hands connections out in turn). A worker that dies
 * unexpectedly is replaced after a back-off (src/cli/cluster-backoff.ts); SIGTERM or SIGINT
 * stops every worker gracefully, then the primary exits 0 (1 if a worker failed to stop).
 */
export async function runCluster(
  count: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): Promise<void> {
  let stopping = false;
  let slots: Slot[] = [];
  let failedStops = 0;
  let logger: Logger | undefined = undefined;
  const live = () => slots.filter((slot) => slot.worker).length;
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const runtime = await connect(configure(), {
    migrate: true,
    command: `formhub api --workers ${count}`,
  });
  // On the embedded database the primary stays its one owner, serving it to the workers
  // (src/db/embedded-database.ts): one process, which no worker's death takes down.
  const embedded = runtime.db.kind === 'pglite';
  const closeDatabase = () =>
    runtime.db.close().catch((error: unknown) => {
      // The process exits next; a lock left behind is stale once it has, and never blocks a start.
      runtime.logger.error({ err: (error as Error).message }, 'closing the database failed');
    });
  if (!embedded) await closeDatabase();
  runtime.redis.disconnect();
  if (stopping)
    return void (embedded ? closeDatabase() : Promise.resolve()).then(() => process.exit(0));

  const log = runtime.logger;
  const port = runtime.config.port;
  const poolEnv = splitPool(runtime.config.database, count);
  const metrics = new ClusterMetrics();
  slots = Array.from({ length: count }, (_, index) => ({ index, startedAt: 0, streak: 0 }));
  logger = log;

  function fork(slot: Slot): void {
    slot.timer = undefined;
    slot.startedAt = Date.now();
    const worker = cluster.fork(poolEnv);
    slot.worker = worker;
    metrics.serve(worker);
    metrics.setWorkers(live());
    worker.on('error', (error) =>
      log.warn({ worker: worker.id, err: error.message }, 'cluster worker IPC error'),
    );
    worker.once('listening', () =>
      log.info({ worker: worker.id, pid: worker.process.pid }, 'cluster worker listening'),
    );
    worker.once('exit', (code, signal) => exited(slot, worker, code, signal));
  }

  function exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker === worker) slot.worker = undefined;
    metrics.setWorkers(live());
    if (stopping) {
      if (code !== 0) failedStops++;
      log.info(
        { worker: worker.id, pid: worker.process.pid, code, signal },
        'cluster worker stopped',
      );
      if (live() === 0) finish();
      return;
    }
    const decision = decideRestart(Date.now() - slot.startedAt, slot.streak, policy);
    slot.streak = decision.streak;
    const facts = { worker: worker.id, pid: worker.process.pid, code, signal };
    if (!decision.restart) {
      log.error(
        { ...facts, deaths: decision.streak },
        'cluster worker keeps dying soon after start; giving up',
      );
      failedStops++;
      return stop('SIGTERM');
    }
    log.warn(
      { ...facts, restartInMs: decision.delayMs },
      'cluster worker died unexpectedly; restarting it',
    );
    metrics.recordRestart();
    slot.timer = setTimeout(() => fork(slot), decision.delayMs);
  }

  function stop(signal: NodeJS.Signals): void {
    if (stopping) return;
    stopping = true;
    // A signal during the start-up checks: runCluster exits once they are done.
    if (!logger) return;
    for (const slot of slots) clearTimeout(slot.timer);
    if (live() === 0) return finish();
    logger?.info({ signal, workers: live() }, 'cluster stopping: asking every worker to shut down');
    for (const slot of slots) slot.worker?.process.kill('SIGTERM');
    setTimeout(() => {
      logger?.error(
        { workers: live() },
        `cluster workers still running after ${SHUTDOWN_TIMEOUT_MS} ms; killing them`,
      );
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
  }

  function finish(): void {
    logger?.info({ failed: failedStops }, 'cluster stopped');
    void (embedded ? closeDatabase() : Promise.resolve()).then(() =>
      process.exit(failedStops > 0 ? 1 : 0),
    );
  }

  for (const slot of slots) fork(slot);
  log.info({ workers: count, port }, 'formhub cluster is running');
}
