import type { MessagePort } from 'node:worker_threads';
import { AppError } from '../errors/index.ts';
import type { Database, Queryable, QueryLimits, QueryResult } from './database.ts';
import { rpcBounded, rpcTransaction } from './pglite-rpc.ts';
import { deserializeError, type Reply, type Request } from './pglite-thread-protocol.ts';
import { DEFAULT_QUERY_TIMEOUT_MS, queryTimeoutError } from './query-timeout.ts';

type QueryRequest = Extract<Request, { type: 'query' }>;
type PortRequest = Exclude<Request, { type: 'attach' } | { type: 'close' }>;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  /** A watched statement's bound: it ends the database thread past it, closing this port. */
  timeoutMs?: number | undefined;
}

/**
 * The embedded database as another thread sees it (an export thread): statements go over a
 * port that the owner's PgliteThreadDatabase attached to its PGlite thread (`openPort()`),
 * and run there in turn with everyone's. Rows come straight from the PGlite thread to this
 * one, never through the main thread's heap. A bounded read past its timeout is stopped as
 * the owner's are: the main thread ends the PGlite thread, which closes this port; its
 * statements in flight then fail (`query_timeout` for the timed one, `unavailable` for the
 * rest), and so does every later one: a port serves one export, and the next gets a new one.
 */
export class PglitePortDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly reader: Queryable;
  readonly queryTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly port: MessagePort,
    queryTimeoutMs?: number,
  ) {
    this.queryTimeoutMs = queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.reader = { query: (sql, params) => this.run(sql, params) };
    port.on('message', (reply: Reply) => this.onReply(reply));
    port.once('close', () => this.onClose());
  }

  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return this.run<R>(sql, params);
  }

  /** Timed as the owner's are; an abort after a statement started does not stop it here. */
  bounded(limits?: QueryLimits): Queryable {
    return rpcBounded(limits, this.queryTimeoutMs, (sql, params, timeoutMs) =>
      this.run(sql, params, undefined, timeoutMs),
    );
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return rpcTransaction(
      {
        nextId: () => this.nextId++,
        end: (request) => this.call(request),
        run: (sql, params, tx, limitMs) => this.run(sql, params, tx, limitMs),
      },
      fn,
    );
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** Closes the port: the PGlite thread rolls back a transaction left open on it. */
  async close(): Promise<void> {
    this.port.close();
    this.onClose();
  }

  private async run<R>(
    sql: string,
    params: readonly unknown[] | undefined,
    tx?: number,
    timeoutMs?: number,
  ): Promise<QueryResult<R>> {
    const watched = timeoutMs !== undefined;
    const request: QueryRequest = {
      type: 'query',
      id: this.nextId++,
      sql,
      params,
      tx,
      watched,
      timeoutMs,
    };
    const reply = await this.call(request, timeoutMs);
    if (reply.type !== 'result') throw new Error(`unexpected answer ${reply.type}`);
    return { rows: reply.rows as R[], rowCount: reply.rowCount };
  }

  private call(request: PortRequest & { id: number }, timeoutMs?: number): Promise<Reply> {
    if (this.closed) return Promise.reject(unavailable());
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject, timeoutMs });
      this.port.postMessage(request);
    });
  }

  private onReply(reply: Reply): void {
    if (!('id' in reply) || reply.type === 'started') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.type === 'error') pending.reject(deserializeError(reply.error));
    else pending.resolve(reply);
  }

  /** The database thread ended (or this side closed): nothing in flight will be answered. */
  private onClose(): void {
    this.closed = true;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      // Which statement the thread was ended for is not said here; a watched one in flight
      // when it ended is taken for it, as only watched statements end the thread.
      pending.reject(
        pending.timeoutMs === undefined
          ? unavailable()
          : queryTimeoutError(pending.timeoutMs, undefined),
      );
    }
  }
}

function unavailable(): AppError {
  return new AppError('unavailable', 'the embedded database restarted; try again');
}
