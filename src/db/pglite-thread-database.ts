import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { AppError } from '../errors/index.ts';
import type {
  ChannelEvents,
  ChannelListener,
  Database,
  Queryable,
  QueryLimits,
  QueryResult,
} from './database.ts';
import { PgliteListeners } from './pglite-listeners.ts';
import {
  deserializeError,
  EXECUTING,
  HALTED,
  type Reply,
  type Request,
} from './pglite-thread-protocol.ts';
import type { Call, CallRequest, Watch } from './pglite-thread-calls.ts';
import { rpcBounded, rpcTransaction } from './pglite-rpc.ts';
import { spawnThread, type Thread } from './pglite-thread-spawn.ts';
import { DEFAULT_QUERY_TIMEOUT_MS, queryTimeoutError } from './query-timeout.ts';

export interface PgliteThreadOptions {
  /** The PGlite folder (`DATA_DIR/pglite`). */
  dataDir: string;
  /** The Unix socket to serve it on to other processes (embedded-server.ts); none when absent. */
  socket?: string | undefined;
  /** QUERY_TIMEOUT: the default bound of `bounded()` reads and of `limitTransaction`. */
  queryTimeoutMs?: number | undefined;
}

/**
 * A statement whose caller left (the client disconnected) still runs this long before the
 * thread is ended for it: a restart costs about as much, and most statements end sooner.
 */
export const ABANDONED_STATEMENT_GRACE_MS = 1_000;

type QueryRequest = Extract<Request, { type: 'query' }>;

/**
 * Embedded PostgreSQL (PGlite) run on a worker thread (pglite-thread.ts), so that no
 * statement, however slow, holds up the hub's event loop, and a statement past its bound can
 * be stopped: PGlite's WebAssembly has no timers and cannot be interrupted, so the thread is
 * ended and started again on the same folder (PostgreSQL recovers it as after a crash).
 * Only the timed statement is lost: it alone was running (the shared word proves it), and
 * the hub's other calls, which had not started, run on the new thread. A `bounded()` read
 * past its timeout, or abandoned by its caller for ABANDONED_STATEMENT_GRACE_MS, ends so.
 */
export class PgliteThreadDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly reader: Queryable;
  readonly queryTimeoutMs: number;
  private thread: Thread;
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closing = false;
  private restartDelayMs = 0;
  private readonly closeHooks: (() => void)[] = [];
  private readonly listeners = new PgliteListeners((channel) =>
    this.call({ type: 'listen', id: this.nextId++, channel }),
  );

  private constructor(private readonly options: PgliteThreadOptions) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.reader = { query: (sql, params) => this.run(sql, params) };
    this.thread = this.spawn();
  }

  /** Opens (creating if needed) the database in `options.dataDir` on a thread of its own. */
  static async open(options: PgliteThreadOptions): Promise<PgliteThreadDatabase> {
    const db = new PgliteThreadDatabase(options);
    try {
      await db.thread.ready;
    } catch (error) {
      db.closing = true;
      await db.thread.worker.terminate();
      throw error;
    }
    return db;
  }

  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return this.run<R>(sql, params);
  }

  bounded(limits?: QueryLimits): Queryable {
    return rpcBounded(limits, this.queryTimeoutMs, (sql, params, timeoutMs) =>
      this.run(sql, params, undefined, { timeoutMs, signal: limits?.signal }),
    );
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return rpcTransaction(
      {
        nextId: () => this.nextId++,
        end: (request) => this.call(request),
        run: (sql, params, tx, limitMs) =>
          this.run(
            sql,
            params,
            tx,
            limitMs === undefined ? undefined : { timeoutMs: limitMs, signal: undefined },
          ),
      },
      fn,
    );
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** LISTEN in PGlite's session, on its thread (pglite-listeners.ts); again after a restart. */
  listen(channel: string, events: ChannelEvents): ChannelListener {
    return this.listeners.add(channel, events);
  }

  /** Runs `hook` once the database is closed (used to release the DATA_DIR lock). */
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    try {
      await this.call({ type: 'close', id: this.nextId++ });
    } finally {
      this.closing = true;
      await this.thread.worker.terminate();
      // Calls made while it closed get no answer from the ended thread: they fail instead.
      for (const call of [...this.calls.values()])
        this.settle(call, { error: new Error('the embedded database is closed') });
      for (const hook of this.closeHooks.splice(0)) hook();
    }
  }

  private async run<R>(
    sql: string,
    params: readonly unknown[] | undefined,
    tx?: number,
    watch?: Watch,
  ): Promise<QueryResult<R>> {
    const request: QueryRequest = {
      type: 'query',
      id: this.nextId++,
      sql,
      params,
      tx,
      watched: !!watch,
    };
    const reply = await this.call(request, watch);
    if (reply.type !== 'result') throw new Error(`unexpected answer ${reply.type}`);
    return { rows: reply.rows as R[], rowCount: reply.rowCount };
  }

  private call(request: CallRequest, watch?: Watch): Promise<Reply> {
    if (this.closing) return Promise.reject(new Error('the embedded database is closed'));
    return new Promise<Reply>((resolve, reject) => {
      const call: Call = { request, resolve, reject, settled: false, watch };
      this.calls.set(request.id, call);
      if (watch?.signal) {
        watch.onAbort = () => this.abandon(call);
        watch.signal.addEventListener('abort', watch.onAbort, { once: true });
      }
      this.post(this.thread, request);
    });
  }

  private post(thread: Thread, request: CallRequest | Extract<Request, { type: 'cancel' }>): void {
    thread.ready.then(
      () => thread.worker.postMessage(request),
      (error: unknown) => {
        const call = this.calls.get(request.id);
        const message = `the embedded database could not start: ${(error as Error).message}`;
        if (call) this.settle(call, { error: new AppError('unavailable', message) });
      },
    );
  }

  private settle(call: Call, outcome: { reply: Reply } | { error: Error }): void {
    this.calls.delete(call.request.id);
    if (call.watch) {
      clearTimeout(call.watch.timer);
      if (call.watch.onAbort) call.watch.signal?.removeEventListener('abort', call.watch.onAbort);
    }
    if (call.settled) return;
    call.settled = true;
    if ('reply' in outcome) call.resolve(outcome.reply);
    else call.reject(outcome.error);
  }

  private onReply(thread: Thread, reply: Reply): void {
    if (thread !== this.thread) return;
    if (reply.type === 'watch') return this.watchPort(thread, reply.exec, reply.timeoutMs);
    if (reply.type === 'notification') return this.listeners.notified(reply.channel);
    if (!('id' in reply)) return;
    const call = this.calls.get(reply.id);
    if (!call) return;
    if (reply.type === 'started') return this.started(call, reply.exec);
    if (reply.type === 'error') this.settle(call, { error: deserializeError(reply.error) });
    else this.settle(call, { reply });
  }

  /** A watched statement started: it may run its timeout, or the grace once abandoned. */
  private started(call: Call, exec: number): void {
    const watch = call.watch;
    if (!watch) return;
    watch.startedAt = Date.now();
    watch.exec = exec;
    const budget = watch.signal?.aborted ? ABANDONED_STATEMENT_GRACE_MS : watch.timeoutMs;
    watch.timer = setTimeout(() => this.kill(call), budget);
  }

  /** The caller left: it is answered now; the statement is skipped, or ended after the grace. */
  private abandon(call: Call): void {
    const watch = call.watch;
    if (!watch || call.settled) return;
    call.settled = true;
    call.reject(queryTimeoutError(watch.timeoutMs, watch.signal));
    if (watch.startedAt === undefined) {
      this.post(this.thread, { type: 'cancel', id: call.request.id });
      return;
    }
    const left = watch.startedAt + ABANDONED_STATEMENT_GRACE_MS - Date.now();
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => this.kill(call), Math.max(0, left));
  }

  /** Ends the thread if, and only if, `call`'s statement is still the one running. */
  private kill(call: Call): void {
    const exec = call.watch?.exec;
    if (exec !== undefined) this.halt(this.thread, exec, call.request.id);
  }

  /** An attached port's statement (an export page) started as `exec`: it gets `timeoutMs`. */
  private watchPort(thread: Thread, exec: number, timeoutMs: number): void {
    // Not cleared when the statement ends (nothing says so): a late timer finds `exec` gone.
    setTimeout(() => this.halt(thread, exec, 'port'), timeoutMs).unref();
  }

  /** Ends `thread` if, and only if, execution `exec` is still the one running in it. */
  private halt(thread: Thread, exec: number, killedFor: number | 'port'): void {
    if (thread !== this.thread) return;
    if (Atomics.compareExchange(thread.state, EXECUTING, exec, HALTED) !== exec) return;
    thread.killed = killedFor;
    void thread.worker.terminate();
  }

  /**
   * A port on which another thread (an export's, pglite-port-database.ts) runs statements on
   * this database, as this thread does: ordered with everyone's by the session, its watched
   * statements timed here. It closes when the database thread ends (a stop, a restart).
   */
  openPort(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const thread = this.thread;
    thread.ready.then(
      () => thread.worker.postMessage({ type: 'attach', port: port1 } satisfies Request, [port1]),
      () => port1.close(), // the thread did not start: the other side sees its port close
    );
    return port2;
  }

  private spawn(): Thread {
    const thread: Thread = spawnThread(this.options, {
      onReply: (reply) => this.onReply(thread, reply),
      onExit: () => this.onExit(thread),
    });
    return thread;
  }

  /**
   * The thread ended. Ended for a statement: that call fails with `query_timeout`, the others
   * had not started and go to a new thread. Ended by itself (a crash): whether the calls in
   * flight ran is unknown, so they fail with `unavailable`. Either way a new thread starts.
   */
  private onExit(thread: Thread): void {
    if (thread !== this.thread || this.closing) return;
    this.listeners.lost('the embedded database thread stopped');
    if (!thread.started) {
      // It could not open the database (its calls failed with the reason): try again later,
      // failing calls at once meanwhile, rather than spin.
      this.restartDelayMs = Math.min(30_000, Math.max(1_000, this.restartDelayMs * 2));
      process.emitWarning(
        `the embedded database did not start; retrying in ${this.restartDelayMs} ms`,
      );
      setTimeout(() => {
        if (this.thread !== thread || this.closing) return;
        this.thread = this.spawn();
        this.listeners.restarted();
      }, this.restartDelayMs).unref();
      return;
    }
    this.restartDelayMs = 0;
    const killed = thread.killed;
    const calls = [...this.calls.values()];
    this.thread = this.spawn();
    this.listeners.restarted();
    for (const call of calls) {
      if (call.settled) {
        this.calls.delete(call.request.id); // abandoned before it started: nobody waits for it
      } else if (call.request.id === killed && call.watch) {
        this.settle(call, { error: queryTimeoutError(call.watch.timeoutMs, call.watch.signal) });
      } else if (killed === undefined || call.request.type === 'close') {
        const error = new AppError(
          'unavailable',
          'the embedded database stopped; it is restarting',
        );
        this.settle(call, { error });
      } else {
        if (call.watch) call.watch.startedAt = undefined;
        this.post(this.thread, call.request);
      }
    }
    if (killed === undefined)
      process.emitWarning('the embedded database thread stopped; restarting it');
  }
}
