import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../artifacts/index.ts';
import type { Database } from '../db/index.ts';
import { attachImportedArtifact, selectLocalFileJobs, type LocalFileJob } from './file-queries.ts';

/** Jobs looked at per query while importing. */
const PAGE = 200;

/**
 * Moves the files of succeeded jobs made before the artifact store (migration 18) from this
 * host's disk into the store, keeping their expiry: each file is streamed in, the job points
 * at the artifact (in the transaction that seals it), then the file is deleted. A job whose
 * file is not on this host's disk is left for the host that has it (its own sweep moves it);
 * if that host never runs again, the job expires at its time as before. Answers how many
 * files moved.
 */
export async function importLocalExportFiles(
  db: Database,
  artifacts: ArtifactStore,
  ttlMs: number,
): Promise<number> {
  let moved = 0;
  let after: string | undefined;
  for (;;) {
    const jobs = await selectLocalFileJobs(db, after, PAGE);
    for (const job of jobs) if (await importOne(artifacts, job, ttlMs)) moved += 1;
    if (jobs.length < PAGE) return moved;
    after = jobs[jobs.length - 1]!.id;
  }
}

async function importOne(
  artifacts: ArtifactStore,
  job: LocalFileJob,
  ttlMs: number,
): Promise<boolean> {
  const info = await stat(job.file_path).catch(() => undefined);
  if (!info?.isFile()) return false; // on another host's disk: that host moves it
  const expiresAt = job.expires_at ?? new Date((job.finished_at ?? new Date()).getTime() + ttlMs);
  const remainingMs = expiresAt.getTime() - Date.now();
  if (remainingMs <= 0) return false; // due: the sweep expires the job and deletes the file
  const writer = await artifacts.create({
    workspaceId: job.workspace_id,
    kind: 'export',
    ttlMs: remainingMs,
    expiresAt,
    onComplete: (tx, artifact) => attachImportedArtifact(tx, job.id, artifact.id),
  });
  try {
    await pipeline(createReadStream(job.file_path), writer);
  } finally {
    await writer.settled();
  }
  if (!writer.stored) return false; // the job changed meanwhile (expired, erased): not attached
  await rm(job.file_path, { force: true });
  return true;
}
