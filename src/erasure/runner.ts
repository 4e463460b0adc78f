import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import {
  addCounts,
  deleteExportFiles,
  eraseBatch,
  ERASURE_BATCH,
  NO_COUNTS,
  type ErasedCounts,
} from './erase.ts';
import { compileMatch } from './match.ts';
import * as q from './queries.ts';

/** What must forget erased data once a batch is committed: the metrics and route caches. */
export interface ErasureCaches {
  /** Drops a form's metrics aggregates (the next read rebuilds them from PostgreSQL). */
  forgetMetrics(formId: string): Promise<void>;
  /** Starts a new route-cache generation for a workspace. */
  forgetRoutes(workspaceId: string): Promise<void>;
}

export interface ErasureRunnerOptions {
  db: Database;
  caches: ErasureCaches;
  logger: Logger;
  batch?: number;
}

/**
 * The worker's side of erasures: takes a queued job (or one whose worker died) and runs
 * it batch after batch, each batch one transaction that deletes and records its counts,
 * then deletes the export files of the forms that lost responses and marks it done.
 */
export class ErasureRunner {
  private stopping = false;

  constructor(private readonly opts: ErasureRunnerOptions) {}

  /** Runs one job to its end; answers 1 when there was one, 0 when the queue was empty. */
  async tick(): Promise<number> {
    const job = await q.claimErasure(this.opts.db);
    if (!job) return 0;
    try {
      while (!this.stopping && (await this.step(job.id)));
      if (this.stopping) await q.requeueErasure(this.opts.db, job.id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.opts.logger.warn({ err: message, erasure: job.id }, 'erasure failed');
      await q.finishErasure(this.opts.db, job.id, { status: 'failed', error: message });
    }
    return 1;
  }

  stop(): void {
    this.stopping = true;
  }

  /** One batch, or the end of the job; answers whether there is more to do. */
  private async step(id: string): Promise<boolean> {
    const { db, caches } = this.opts;
    const outcome = await db.transaction(async (tx) => {
      const job = await q.lockRunning(tx, id);
      if (!job) return undefined; // failed or finished elsewhere meanwhile
      const counts = addCounts(NO_COUNTS, job.counts);
      for (const form of await q.formsFrom(tx, job.workspace_id, job.form_id, job.form_cursor)) {
        const where = compileMatch(job.match, form, job.form_id === null);
        const erased = await eraseBatch(
          tx,
          { workspaceId: job.workspace_id, formId: form.id, where },
          this.opts.batch ?? ERASURE_BATCH,
        );
        if (erased.responses === 0) continue;
        const forms = job.forms.includes(form.id) ? job.forms : [...job.forms, form.id];
        await q.recordProgress(tx, id, {
          counts: addCounts(counts, erased),
          cursor: form.id,
          forms,
        });
        return { job, formId: form.id };
      }
      const files = await deleteExportFiles(tx, job.forms);
      await q.finishErasure(tx, id, {
        status: 'succeeded',
        counts: addCounts(counts, { export_files: files }),
      });
      return { job, formId: undefined };
    });
    if (!outcome) return false;
    const { job, formId } = outcome;
    for (const form of formId ? [formId] : job.forms) await caches.forgetMetrics(form);
    await caches.forgetRoutes(job.workspace_id);
    return formId !== undefined;
  }
}

/** The worker's erasure loop: a job as soon as one is queued (polled every second). */
export function startErasures(opts: ErasureRunnerOptions): {
  runner: ErasureRunner;
  stop(): Promise<void>;
} {
  const runner = new ErasureRunner(opts);
  const loop = startLoop('erasures', () => runner.tick(), opts.logger, {
    idleMs: 1_000,
    errorMs: 5_000,
  });
  return {
    runner,
    async stop() {
      runner.stop();
      await loop.stop();
    },
  };
}

export type { ErasedCounts };
