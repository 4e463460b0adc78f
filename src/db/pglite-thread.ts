import { mkdirSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
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
import type { MessageRunner } from './session-queue.ts';
import { SessionLock } from './session-lock.ts';

/**
 * The thread that runs the embedded PGlite (started by ThreadedPgliteDatabase). A statement
 * inside PGlite's WebAssembly cannot be interrupted and no timer fires while it runs; here
 * it blocks only this thread, and the main thread, which stays free, bounds it by ending
 * the thread. The hub's statements come as messages, from the main thread or over a port it
 * attached (an export thread's); other processes' over the Unix socket (EmbeddedServer); one
 * SessionLock orders them all, as on one connection.
 */

const port = parentPort;
if (!port) throw new Error('pglite-thread.ts runs as a worker thread');
const mainPort = port;
const init = workerData as ThreadInit;
const state = new Int32Array(init.state);

/** Where requests come from: the main thread, or a port it attached; each has its own ids. */
interface Endpoint {
  send(reply: Reply): void;
  /** A watched statement of this endpoint started as execution `exec`. */
  started(request: QueryRequest, exec: number): void;
  /** Open transactions (by the id of their `begin`): what releases the session once each ends. */
  transactions: Map<number, () => void>;
  cancelled: Set<number>;
}
type QueryRequest = Extract<Request, { type: 'query' }>;

const fromMain: Endpoint = {
  send: (reply) => mainPort.postMessage(reply),
  started: (request, exec) => mainPort.postMessage({ type: 'started', id: request.id, exec }),
  transactions: new Map(),
  cancelled: new Set(),
};

/**
 * Ends this thread's part: the main thread decided to end it (HALTED), so nothing more may
 * run or answer; it waits here to be terminated.
 */
function halt(): never {
  for (;;) Atomics.wait(state, EXECUTING, HALTED);
}

let executing: Promise<unknown> = Promise.resolve();
let lastExec = 0;

/**
 * Runs `fn` alone, as a new execution whose id is in the shared word while it runs. The main
 * thread ends the thread only after swapping that id for HALTED, so it can never stop a
 * statement other than the one it timed, nor one that has already answered.
 */
function execute<T>(
  endpoint: Endpoint,
  id: number,
  onStart: ((exec: number) => void) | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const run = executing.then(async () => {
    if (endpoint.cancelled.delete(id)) throw new Error('cancelled before it started');
    const exec = (lastExec = lastExec >= 0x7fffffff ? 1 : lastExec + 1);
    if (Atomics.compareExchange(state, EXECUTING, IDLE, exec) !== IDLE) halt();
    onStart?.(exec);
    try {
      return await fn();
    } finally {
      if (Atomics.compareExchange(state, EXECUTING, exec, IDLE) !== exec) halt();
    }
  });
  executing = run.catch(() => undefined); // each caller gets its own failure; the chain goes on
  return run;
}

mkdirSync(init.dataDir, { recursive: true });
const db = await PGlite.create(init.dataDir).catch((error: unknown) => {
  fromMain.send({ type: 'failed', error: serializeError(error) });
  throw error;
});
const session = new SessionLock();
/**
 * The socket's clients (`formhub api --workers N`, the CLI) run on the same executor; a
 * statement under the timeout its client set (`SET LOCAL statement_timeout`, as
 * `PgDatabase.bounded()` does) is timed by the main thread like a port's.
 */
const fromSocket: Endpoint = {
  send: () => undefined, // the socket handler writes its own answers
  started: () => undefined,
  transactions: new Map(),
  cancelled: new Set(),
};
const runSocketMessage: MessageRunner = (fn, timeoutMs) =>
  execute(
    fromSocket,
    0,
    timeoutMs === undefined
      ? undefined
      : (exec) => mainPort.postMessage({ type: 'watch', exec, timeoutMs } satisfies Reply),
    fn,
  );
const server = init.socket
  ? await EmbeddedServer.start(db, session, init.socket, runSocketMessage)
  : undefined;

async function query(endpoint: Endpoint, request: QueryRequest): Promise<Reply> {
  const onStart = request.watched ? (exec: number) => endpoint.started(request, exec) : undefined;
  const run = () =>
    execute(endpoint, request.id, onStart, () =>
      db.query(request.sql, request.params as unknown[] | undefined),
    );
  if (request.tx !== undefined && !endpoint.transactions.has(request.tx))
    throw new Error('the transaction has ended');
  const result = request.tx === undefined ? await session.run(run) : await run();
  const rowCount = result.affectedRows ?? result.rows.length;
  return { type: 'result', id: request.id, rows: result.rows, rowCount };
}

async function begin(endpoint: Endpoint, id: number): Promise<Reply> {
  const release = await session.acquire();
  try {
    await execute(endpoint, id, undefined, () => db.exec('BEGIN'));
  } catch (error) {
    release();
    throw error;
  }
  endpoint.transactions.set(id, release);
  return { type: 'done', id };
}

async function end(
  endpoint: Endpoint,
  id: number,
  tx: number,
  sql: 'COMMIT' | 'ROLLBACK',
): Promise<Reply> {
  const release = endpoint.transactions.get(tx);
  if (!release) {
    if (sql === 'ROLLBACK') return { type: 'done', id }; // ended already (a failed statement)
    throw new Error('the transaction has ended');
  }
  try {
    await execute(endpoint, id, undefined, () => db.exec(sql));
  } finally {
    endpoint.transactions.delete(tx);
    release();
  }
  return { type: 'done', id };
}

/**
 * LISTENs on `channel` in PGlite's one session. PostgreSQL sends a session its own
 * notifications too, so every NOTIFY (the OutboxNotifier's, after a commit of events) reaches it, and
 * PGlite calls back for those in the answers of its `query` and `exec`, which run the hub's
 * statements (from the main thread and from export threads' ports). A socket client's
 * exchange is passed through raw: a notification raised there goes to that client instead.
 */
async function listen(id: number, channel: string): Promise<Reply> {
  const notify = () => mainPort.postMessage({ type: 'notification', channel } satisfies Reply);
  await session.run(() => execute(fromMain, id, undefined, () => db.listen(channel, notify)));
  return { type: 'done', id };
}

async function close(id: number): Promise<Reply> {
  await server?.stop();
  await db.close();
  return { type: 'done', id };
}

async function handle(endpoint: Endpoint, request: Request): Promise<void> {
  if (request.type === 'attach') return attach(request.port);
  if (request.type === 'cancel') return void endpoint.cancelled.add(request.id);
  try {
    if (request.type === 'query') endpoint.send(await query(endpoint, request));
    else if (request.type === 'begin') endpoint.send(await begin(endpoint, request.id));
    else if (request.type === 'close' && endpoint === fromMain)
      endpoint.send(await close(request.id));
    else if (request.type === 'listen' && endpoint === fromMain)
      endpoint.send(await listen(request.id, request.channel));
    else if (request.type === 'commit' || request.type === 'rollback') {
      const sql = request.type === 'commit' ? 'COMMIT' : 'ROLLBACK';
      endpoint.send(await end(endpoint, request.id, request.tx, sql));
    }
  } catch (error) {
    endpoint.send({ type: 'error', id: request.id, error: serializeError(error) });
  }
}

/**
 * Serves requests that come over `other` (an export thread's, pglite-port-database.ts). Its
 * watched statements are timed by the main thread like its own. When it closes, what it
 * left open is rolled back and the session released.
 */
function attach(other: MessagePort): void {
  const endpoint: Endpoint = {
    send: (reply) => other.postMessage(reply),
    started: (request, exec) => {
      other.postMessage({ type: 'started', id: request.id, exec });
      if (request.timeoutMs !== undefined)
        mainPort.postMessage({ type: 'watch', exec, timeoutMs: request.timeoutMs });
    },
    transactions: new Map(),
    cancelled: new Set(),
  };
  other.on('message', (request: Request) => void handle(endpoint, request));
  other.once('close', () => {
    for (const tx of [...endpoint.transactions.keys()])
      void end(endpoint, 0, tx, 'ROLLBACK').catch(() => {
        // Nobody waits for this answer; a failed ROLLBACK still released the session (end's finally).
      });
  });
}

port.on('message', (request: Request) => void handle(fromMain, request));
fromMain.send({ type: 'ready' });
