import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { acquireDataDirLock, isHolderLive, type LockHolder } from './data-dir-lock.ts';
import type { Database } from './database.ts';
import { PgDatabase } from './pg-database.ts';
import { PgliteThreadDatabase } from './pglite-thread-database.ts';

/**
 * How a process uses DATA_DIR's embedded database when another process holds it:
 * `own` refuses (a second `formhub serve`), `share` works through the holder's socket (the
 * CLI's `keys create` and `migrate`, the workers of `formhub api --workers N`).
 */
export type EmbeddedAccess = 'own' | 'share';

export interface EmbeddedOptions {
  access: EmbeddedAccess;
  /** What this process is, written into the lock for other processes' messages. */
  command: string;
  /** Connections to the holder's socket, when sharing. */
  poolMax: number;
  /** QUERY_TIMEOUT, when owning: how long a bounded read may run (pglite-thread-database.ts). */
  queryTimeoutMs?: number | undefined;
}

/**
 * How long a sharing process waits for a holder that is still starting: a first start
 * creates the database, which takes half a minute on a busy machine.
 */
const STARTING_HOLDER_WAIT_MS = 120_000;
/** The longest Unix socket path Linux and macOS accept, with room to spare. */
const MAX_SOCKET_PATH = 100;
const SOCKET_NAME = '.s.PGSQL.5432';

/** DATA_DIR is held by another live process, which this one may not or cannot share. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens the embedded database of `dataDir`. The first process takes DATA_DIR's lock, opens
 * PGlite and serves it on a Unix socket; while it lives, any other process either connects
 * through that socket (`share`: its writes are the holder's writes, visible at once) or
 * stops with a DataDirInUseError (`own`). No two processes ever open the folder at once.
 */
export async function openEmbeddedDatabase(
  dataDir: string,
  options: EmbeddedOptions,
): Promise<Database> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + STARTING_HOLDER_WAIT_MS;
  for (;;) {
    const socket = socketPathFor(dir);
    const attempt = acquireDataDirLock(join(dir, 'pglite.lock'), {
      command: options.command,
      socket,
    });
    if ('lock' in attempt) {
      try {
        return await openAsOwner(dir, socket, options, () => attempt.lock.release());
      } catch (error) {
        attempt.lock.release();
        throw error;
      }
    }
    if (dirname(socket) !== join(dir, 'run'))
      rmSync(dirname(socket), { recursive: true, force: true });
    const { holder } = attempt;
    if (options.access === 'own') {
      throw new DataDirInUseError(
        dir,
        holder,
        `DATA_DIR ${dir} is in use by ${holder.command} (pid ${holder.pid}); the embedded database has one owner. ` +
          'Stop that process first, or set DATABASE_URL to run several formhub processes on PostgreSQL.',
      );
    }
    const shared = await connectThrough(holder, options.poolMax, deadline);
    if (shared) return shared;
    if (isHolderLive(holder)) {
      throw new DataDirInUseError(
        dir,
        holder,
        `DATA_DIR ${dir} is held by ${holder.command} (pid ${holder.pid}), which does not answer on ${holder.socket}; ` +
          'stop that process, or try again once it has started.',
      );
    }
    // The holder died while we waited: its lock is stale now; take it.
  }
}

/** PGlite on a thread of its own, serving `socket` (pglite-thread-database.ts). */
async function openAsOwner(
  dir: string,
  socket: string,
  options: EmbeddedOptions,
  release: () => void,
): Promise<Database> {
  const dropSocketDir = () => {
    if (dirname(socket) !== join(dir, 'run'))
      rmSync(dirname(socket), { recursive: true, force: true });
  };
  try {
    const db = await PgliteThreadDatabase.open({
      dataDir: join(dir, 'pglite'),
      socket,
      queryTimeoutMs: options.queryTimeoutMs,
    });
    db.onClose(release);
    db.onClose(dropSocketDir);
    return db;
  } catch (error) {
    dropSocketDir();
    throw error;
  }
}

/**
 * A pool on the holder's socket once it answers; undefined when it did not by `deadline` or
 * its process is gone. A holder answers only once PGlite is open, seconds after taking the
 * lock, so this polls (every 100 ms): there is no event to wait for in another process.
 */
async function connectThrough(
  holder: LockHolder,
  poolMax: number,
  deadline: number,
): Promise<Database | undefined> {
  const url = `postgresql://postgres@/postgres?host=${encodeURIComponent(dirname(holder.socket))}`;
  for (;;) {
    if (existsSync(holder.socket)) {
      const db = new PgDatabase({ url, poolMin: 0, poolMax, notifications: false });
      try {
        await db.ping();
        return db;
      } catch {
        // Not listening yet (still opening PGlite), or stopping: the holder's liveness and
        // the deadline below decide between another try and a DataDirInUseError.
        await db.close().catch(() => undefined); // a pool that never connected has nothing to lose
      }
    }
    if (Date.now() > deadline || !isHolderLive(holder)) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `DATA_DIR/run/.s.PGSQL.5432`, or a fresh private folder in the temp dir when that path is too long. */
function socketPathFor(dir: string): string {
  const inDataDir = join(dir, 'run', SOCKET_NAME);
  if (inDataDir.length <= MAX_SOCKET_PATH) return inDataDir;
  return join(mkdtempSync(join(tmpdir(), 'formhub-')), SOCKET_NAME);
}
