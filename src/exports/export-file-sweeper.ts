import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/index.ts';
import { expireExportJobs, failStaleExportJobs } from './queries.ts';

export interface ExportFileSweeperOptions {
  db: Database;
  /** `<dataDir>/exports`: the files of the jobs this host ran. */
  directory: string;
  /** EXPORT_TTL. */
  ttlMs: number;
  /** A job silent this long is dead (see `STALE_JOB_MS`). */
  staleJobMs: number;
  /** Files of jobs running in this process: never deleted, however old (a job may wait for a render slot). */
  inUse: () => ReadonlySet<string>;
  onError: (error: unknown) => void;
}

/**
 * Deletes export files after EXPORT_TTL, in the process that serves them: every
 * `sweepInterval(ttlMs)` it marks due jobs `expired` (dropping their file reference) and
 * deletes their files, fails jobs whose process died, and deletes any file in the exports
 * directory older than the TTL (a file of a job another host expired, or of a job that
 * crashed). It runs once at start too.
 */
export class ExportFileSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly opts: ExportFileSweeperOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweepOnce(), sweepInterval(this.opts.ttlMs)).unref();
    void this.sweepOnce();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** One sweep (skipped while the previous one runs); failures are reported, and retried next time. */
  sweepOnce(): Promise<void> {
    this.sweeping ??= this.sweep()
      .catch((error: unknown) => this.opts.onError(error))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweep(): Promise<void> {
    const { db, ttlMs, staleJobMs } = this.opts;
    const paths = [
      ...(await expireExportJobs(db, ttlMs)),
      ...(await failStaleExportJobs(db, staleJobMs)),
    ];
    await Promise.all(paths.map((path) => rm(path, { force: true })));
    await this.deleteOldFiles();
  }

  private async deleteOldFiles(): Promise<void> {
    const names = await readdir(this.opts.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[]; // no export has run on this host yet
      throw error;
    });
    const oldest = Date.now() - this.opts.ttlMs;
    const inUse = this.opts.inUse();
    for (const name of names) {
      const path = join(this.opts.directory, name);
      if (inUse.has(path)) continue;
      const info = await stat(path).catch(() => undefined); // gone meanwhile: nothing to delete
      if (info?.isFile() && info.mtimeMs < oldest) await rm(path, { force: true });
    }
  }
}

/** How often to sweep: a quarter of the TTL, from 1 s to 5 min. */
export function sweepInterval(ttlMs: number): number {
  return Math.min(5 * 60_000, Math.max(1_000, Math.floor(ttlMs / 4)));
}
