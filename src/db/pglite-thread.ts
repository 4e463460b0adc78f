import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { EmbeddedServer } from './embedded-server.ts';
import {
  EXECUTING,
  HALTED,
  IDLE,
  serializeError,
  type Reply,
  type Request,
  type ThreadInit,
} from './pglite-thread-protocol.ts';
import { SessionLock } from './session-lock.ts';

/**
 * The thread that runs the embedded PGlite (started by ThreadedPgliteDatabase). A statement
 * inside PGlite's WebAssembly cannot be interrupted and no timer fires while it runs; here
 * it blocks only this thread, and the main thread, which stays free, bounds it by ending
 * the thread. The hub's statements come as messages; other processes' over the Unix socket
 * (EmbeddedServer); one SessionLock orders both, as on one connection.
 */

const port = parentPort;
if (!port) throw new Error('pglite-thread.ts runs as a worker thread');
const init = workerData as ThreadInit;
const state = new Int32Array(init.state);

const send = (reply: Reply) => port.postMessage(reply);

/**
 * Ends this thread's part: the main thread decided to end it (HALTED), so nothing more may
 * run or answer; it waits here to be terminated.
 */
function halt(): never {
  for (;;) Atomics.wait(state, EXECUTING, HALTED);
}

let executing: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` alone, with its id in the shared word while it runs. The main thread ends the
 * thread only after swapping that id for HALTED, so it can never stop a statement other
 * than the one it timed, nor one that has already answered.
 */
function execute<T>(id: number, watched: boolean, fn: () => Promise<T>): Promise<T> {
  const run = executing.then(async () => {
    if (cancelled.delete(id)) throw new Error('cancelled before it started');
    if (Atomics.compareExchange(state, EXECUTING, IDLE, id) !== IDLE) halt();
    if (watched) send({ type: 'started', id });
    try {
      return await fn();
    } finally {
      if (Atomics.compareExchange(state, EXECUTING, id, IDLE) !== id) halt();
    }
  });
  executing = run.catch(() => undefined); // each caller gets its own failure; the chain goes on
  return run;
}

const cancelled = new Set<number>();
/** Open transactions: what releases the session once each ends. */
const transactions = new Map<number, () => void>();

mkdirSync(init.dataDir, { recursive: true });
const db = await PGlite.create(init.dataDir).catch((error: unknown) => {
  send({ type: 'failed', error: serializeError(error) });
  throw error;
});
const session = new SessionLock();
const server = init.socket ? await EmbeddedServer.start(db, session, init.socket) : undefined;

async function query(request: Extract<Request, { type: 'query' }>): Promise<Reply> {
  const run = () =>
    execute(request.id, request.watched, () =>
      db.query(request.sql, request.params as unknown[] | undefined),
    );
  if (request.tx !== undefined && !transactions.has(request.tx))
    throw new Error('the transaction has ended');
  const result = request.tx === undefined ? await session.run(run) : await run();
  const rowCount = result.affectedRows ?? result.rows.length;
  return { type: 'result', id: request.id, rows: result.rows, rowCount };
}

async function begin(id: number): Promise<Reply> {
  const release = await session.acquire();
  try {
    await execute(id, false, () => db.exec('BEGIN'));
  } catch (error) {
    release();
    throw error;
  }
  transactions.set(id, release);
  return { type: 'done', id };
}

async function end(id: number, tx: number, sql: 'COMMIT' | 'ROLLBACK'): Promise<Reply> {
  const release = transactions.get(tx);
  if (!release) {
    if (sql === 'ROLLBACK') return { type: 'done', id }; // ended already (a failed statement)
    throw new Error('the transaction has ended');
  }
  try {
    await execute(id, false, () => db.exec(sql));
  } finally {
    transactions.delete(tx);
    release();
  }
  return { type: 'done', id };
}

async function close(id: number): Promise<Reply> {
  await server?.stop();
  await db.close();
  return { type: 'done', id };
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'cancel') return void cancelled.add(request.id);
  try {
    if (request.type === 'query') send(await query(request));
    else if (request.type === 'begin') send(await begin(request.id));
    else if (request.type === 'close') send(await close(request.id));
    else send(await end(request.id, request.tx, request.type === 'commit' ? 'COMMIT' : 'ROLLBACK'));
  } catch (error) {
    send({ type: 'error', id: request.id, error: serializeError(error) });
  }
}

port.on('message', (request: Request) => void handle(request));
send({ type: 'ready' });
