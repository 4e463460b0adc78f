import type { PGlite } from '@electric-sql/pglite';
import type { SessionLock } from './session-lock.ts';

/** A client idle inside a transaction this long is disconnected (its transaction rolled back). */
export const IDLE_IN_TRANSACTION_MS = 15_000;

const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);
const TERMINATE = 0x58; // 'X'
const READY_IDLE = [0x5a, 0, 0, 0, 5, 0x49]; // ReadyForQuery, status 'I': no transaction open
const SIMPLE_QUERY = 0x51; // 'Q'
/** `SET [LOCAL] statement_timeout = 150` or `TO '150ms'`, as `PgDatabase.bounded()` sends it. */
const SET_TIMEOUT = /\bSET\s+(LOCAL\s+)?statement_timeout\s*(?:=|TO)\s*'?(\d+)\s*(ms|s)?'?/i;

/**
 * Runs one message's execution on the thread's one executor, timed for `timeoutMs` when
 * given (pglite-thread.ts: the main thread stops the PGlite thread for a statement past it).
 */
export type MessageRunner = <T>(fn: () => Promise<T>, timeoutMs: number | undefined) => Promise<T>;

/** What a client set: its statement timeout, for its transaction (LOCAL) or its session. */
interface ClientTimeout {
  session?: number | undefined;
  local?: number | undefined;
}

/**
 * Runs the wire-protocol messages of the embedded server's clients on the hub's PGlite. PGlite
 * has one session, shared with the hub's own queries; so a client holds the hub's
 * SessionLock from its first message until PGlite answers ReadyForQuery outside a
 * transaction. In between (an open transaction, an extended-protocol exchange before its
 * Sync, a COPY) nothing else runs: no statement of the hub lands in a client's transaction
 * or the other way round. Messages of one client run in order; a client that disconnects
 * has its unfinished exchange synced and its transaction rolled back before the lock is
 * released, and one that idles in a transaction for IDLE_IN_TRANSACTION_MS is disconnected.
 *
 * It has the shape of pglite-socket's query queue, which PGLiteSocketHandler drives: that
 * queue releases PGlite between any two messages, which is safe only when nothing else
 * queries the database.
 */
export class SessionQueue {
  private holder: number | undefined;
  private release: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Promise<unknown>>();
  private readonly closed = new Set<number>();
  private readonly timeouts = new Map<number, ClientTimeout>();

  constructor(
    private readonly db: PGlite,
    private readonly lock: SessionLock,
    private readonly onIdleInTransaction: (handlerId: number) => void,
    /**
     * Runs each message; by default directly. PGlite has no statement_timeout of its own, so
     * the thread that owns it passes one that honours the client's (SET [LOCAL]).
     */
    private readonly runner: MessageRunner = (fn) => fn(),
  ) {}

  /** Runs one message of client `handlerId` after its earlier ones; answers with bytes sent. */
  enqueue(
    handlerId: number,
    message: Uint8Array,
    onData: (data: Uint8Array) => void,
  ): Promise<number> {
    const previous = this.pending.get(handlerId) ?? Promise.resolve();
    // An earlier message's failure closes the connection; this one then fails on `closed`.
    const next = previous
      .catch(() => undefined)
      .then(() => this.execute(handlerId, message, onData));
    this.pending.set(handlerId, next);
    void next
      .finally(() => this.pending.get(handlerId) === next && this.pending.delete(handlerId))
      .catch(() => {
        // Its caller, the socket handler, gets the same rejection and closes the connection.
      });
    return next;
  }

  /** The client is gone: its messages not yet run will fail instead. */
  clearQueueForHandler(handlerId: number): void {
    this.closed.add(handlerId);
  }

  /** The client is gone: ends what it left open and releases the session if it held it. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.closed.add(handlerId);
    this.timeouts.delete(handlerId);
    await this.pending.get(handlerId)?.catch(() => undefined); // its own failure was reported to it
    if (this.holder === handlerId) await this.endSession(handlerId);
    this.closed.delete(handlerId);
  }

  private async execute(
    handlerId: number,
    message: Uint8Array,
    onData: (data: Uint8Array) => void,
  ): Promise<number> {
    if (message[0] === TERMINATE && message.length === 5) return 0; // never reaches PGlite; the close cleans up
    if (this.holder !== handlerId) {
      const release = await this.lock.acquire();
      this.holder = handlerId;
      this.release = release;
    }
    clearTimeout(this.idleTimer);
    if (this.closed.has(handlerId)) {
      await this.endSession(handlerId);
      throw new Error('the client disconnected');
    }
    const tail: number[] = [];
    let sent = 0;
    const timeout = this.noteTimeout(handlerId, message);
    try {
      await this.runner(
        () =>
          this.db.runExclusive(() =>
            this.db.execProtocolRawStream(message, {
              onRawData: (data) => {
                sent += data.length;
                for (const byte of data.subarray(Math.max(0, data.length - READY_IDLE.length)))
                  tail.push(byte);
                tail.splice(0, Math.max(0, tail.length - READY_IDLE.length));
                onData(data);
              },
            }),
          ),
        timeout,
      );
    } catch (error) {
      await this.endSession(handlerId);
      throw error;
    }
    const idle = tail.length === READY_IDLE.length && tail.every((b, i) => b === READY_IDLE[i]);
    if (idle && !this.db.isInTransaction()) {
      const set = this.timeouts.get(handlerId);
      if (set) set.local = undefined; // SET LOCAL ends with its transaction
      this.leave(handlerId);
    } else
      this.idleTimer = setTimeout(
        () => this.onIdleInTransaction(handlerId),
        IDLE_IN_TRANSACTION_MS,
      ).unref();
    return sent;
  }

  /**
   * The statement timeout in force for this message of the client: what it set before (its
   * session's, or its transaction's), and for a simple query that sets one, that one.
   */
  private noteTimeout(handlerId: number, message: Uint8Array): number | undefined {
    const set = this.timeouts.get(handlerId) ?? {};
    if (message[0] === SIMPLE_QUERY) {
      const text = Buffer.from(message.subarray(5)).toString('utf8');
      const match = SET_TIMEOUT.exec(text);
      if (match) {
        const value = Number(match[2]) * (match[3]?.toLowerCase() === 's' ? 1000 : 1);
        const ms = value > 0 ? value : undefined; // 0 turns the timeout off
        if (match[1]) set.local = ms;
        else set.session = ms;
        this.timeouts.set(handlerId, set);
      }
    }
    return set.local ?? set.session;
  }

  /** Finishes an extended-protocol exchange and rolls back a transaction left open, then releases. */
  private async endSession(handlerId: number): Promise<void> {
    try {
      await this.db.runExclusive(() => this.db.execProtocolRaw(SYNC));
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } finally {
      this.leave(handlerId);
    }
  }

  private leave(handlerId: number): void {
    if (this.holder !== handlerId) return;
    clearTimeout(this.idleTimer);
    this.holder = undefined;
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
