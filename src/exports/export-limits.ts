import { AppError } from '../errors/index.ts';

/** At most this many exports at a time per workspace: jobs (across processes) and direct downloads (per process). */
export const MAX_EXPORTS_PER_WORKSPACE = 3;

/** What a client over the limit is told to wait before trying again, in seconds. */
export const EXPORT_RETRY_AFTER_S = 10;

/** 429 `rate_limited` with `Retry-After`. */
export function exportsRateLimited(what: 'export jobs' | 'exports'): AppError {
  return new AppError(
    'rate_limited',
    `at most ${MAX_EXPORTS_PER_WORKSPACE} ${what} at a time per workspace`,
    [],
    { 'retry-after': String(EXPORT_RETRY_AFTER_S) },
  );
}

/**
 * Direct (streamed) exports running in this process, per workspace: a slot is taken before
 * the body starts and given back when the response ends, however it ends.
 */
export class ExportSlots {
  private readonly taken = new Map<string, number>();

  constructor(private readonly max = MAX_EXPORTS_PER_WORKSPACE) {}

  /** Takes a slot or throws 429; answers the function that gives it back (idempotent). */
  acquire(workspaceId: string): () => void {
    const n = this.taken.get(workspaceId) ?? 0;
    if (n >= this.max) throw exportsRateLimited('exports');
    this.taken.set(workspaceId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.taken.get(workspaceId) ?? 1) - 1;
      if (left <= 0) this.taken.delete(workspaceId);
      else this.taken.set(workspaceId, left);
    };
  }
}
