import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** Who holds a DATA_DIR: written into its lock file by the process that owns it. */
export interface LockHolder {
  pid: number;
  /** The process's start time on Linux (from /proc), so a reused pid is not taken for it. */
  started?: string | undefined;
  /** The command it runs, for messages: `formhub serve`. */
  command: string;
  /** The Unix socket its embedded database answers on. */
  socket: string;
}

export type LockAttempt = { lock: DataDirLock } | { holder: LockHolder };

/** Lock files this process holds: a file naming our own pid that is not here is stale. */
const heldHere = new Set<string>();

/**
 * Takes the lock file at `path` for this process, or says which live process holds it.
 * The file is created whole and atomically (written aside, then hard-linked into place, which
 * fails when it exists). A lock whose process is gone (a hub killed with SIGKILL, a machine
 * that crashed) is stale: it is moved aside and taken over, so it never blocks a start.
 */
export function acquireDataDirLock(
  path: string,
  self: Omit<LockHolder, 'pid' | 'started'>,
): LockAttempt {
  const mine: LockHolder = { pid: process.pid, started: processStartTime(process.pid), ...self };
  const text = JSON.stringify(mine);
  for (let attempt = 0; attempt < 10; attempt++) {
    if (tryCreate(path, text)) {
      heldHere.add(path);
      return { lock: new DataDirLock(path, text) };
    }
    const found = readText(path);
    if (found === undefined) continue; // released in the meantime: try again
    const holder = parseHolder(found);
    if (holder && isLive(holder, heldHere.has(path))) return { holder };
    removeStale(path, found);
  }
  throw new Error(`could not take the lock ${path}: other processes keep taking and dropping it`);
}

/** A held DATA_DIR lock; `release()` removes the file if it is still ours. */
export class DataDirLock {
  constructor(
    readonly path: string,
    private readonly text: string,
  ) {}

  release(): void {
    heldHere.delete(this.path);
    if (readText(this.path) === this.text) rmSync(this.path, { force: true });
  }
}

function tryCreate(path: string, text: string): boolean {
  const aside = `${path}.${process.pid}.new`;
  writeFileSync(aside, text, { mode: 0o600 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Moves a stale lock aside and deletes it. Another process may have replaced it with a fresh
 * lock between our read and the move: then that lock is put back where it was.
 */
function removeStale(path: string, staleText: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readText(aside) !== staleText) {
    try {
      linkSync(aside, path);
    } catch (error) {
      // EEXIST: yet another process took the lock meanwhile; it is the holder now.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  rmSync(aside, { force: true });
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The holder a lock file names; undefined for a file that is not one of ours (stale). */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(value.pid) || typeof value.socket !== 'string') return undefined;
    return {
      pid: value.pid!,
      started: value.started,
      command: String(value.command),
      socket: value.socket,
    };
  } catch {
    return undefined; // not JSON: no live formhub wrote it
  }
}

/** Whether the process a lock names still runs (and is the one that wrote it). */
function isLive(holder: LockHolder, heldByThisProcess: boolean): boolean {
  if (holder.pid === process.pid) return heldByThisProcess;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const started = processStartTime(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

/** The start time of a process in clock ticks since boot (Linux); undefined elsewhere. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined; // no /proc (macOS) or the process is gone: the pid alone decides
  }
}

/** Whether the process that holds a lock (as acquireDataDirLock reported it) still runs. */
export function isHolderLive(holder: LockHolder): boolean {
  return holder.pid === process.pid || isLive(holder, false);
}
