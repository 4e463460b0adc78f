import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/index.ts';
import type { Database } from '../db/index.ts';
import { importLocalExportFiles } from './export-file-import.ts';
import { expireExportJobs, failStaleExportJobs } from './file-queries.ts';

export interface ExportFileSweeperOptions {
  db: Database;
  /** Where job files live. */
  artifacts: ArtifactStore;
  /** `<dataDir>/exports`: files of jobs this host ran before the artifact store. */
  directory: string;
  /** EXPORT_TTL. */
  ttlMs: number;
  /** A job silent this long is dead (see `STALE_JOB_MS`). */
  staleJobMs: number;
  onError: (error: unknown) => void;
}

/**
 * Deletes export files after EXPORT_TTL, from any API process: every `sweepInterval(ttlMs)`
 * it marks due jobs `expired` and fails jobs whose process died (their artifacts become due),
 * deletes the artifacts past their expiry with their chunks, in batches (src/artifacts),
 * moves files of jobs made before the store that are on this host's disk into it, and
 * deletes any file in the old exports directory older than the TTL. It runs once at start too.
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
    const { db, artifacts, ttlMs, staleJobMs } = this.opts;
    const expired = await expireExportJobs(db, ttlMs);
    const stale = await failStaleExportJobs(db, staleJobMs);
    await artifacts.expire([...expired.artifactIds, ...stale.artifactIds]);
    await Promise.all([...expired.paths, ...stale.paths].map((path) => rm(path, { force: true })));
    await artifacts.sweep();
    await importLocalExportFiles(db, artifacts, ttlMs);
    await this.deleteOldFiles();
  }

  private async deleteOldFiles(): Promise<void> {
    const names = await readdir(this.opts.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[]; // no export file was ever written here
      throw error;
    });
    const oldest = Date.now() - this.opts.ttlMs;
    for (const name of names) {
      const path = join(this.opts.directory, name);
      const info = await stat(path).catch(() => undefined); // gone meanwhile: nothing to delete
      if (info?.isFile() && info.mtimeMs < oldest) await rm(path, { force: true });
    }
  }
}

/** How often to sweep: a quarter of the TTL, from 1 s to 5 min. */
export function sweepInterval(ttlMs: number): number {
  return Math.min(5 * 60_000, Math.max(1_000, Math.floor(ttlMs / 4)));
}
