import type { Logger } from 'pino';
import type { ChannelListener, Database } from '../db/index.ts';
import { OUTBOX_CHANNEL } from './outbox-notifier.ts';

/** Why the signal wakes its subscribers: an event committed, or the listener's state changed. */
export type OutboxWakeSource = 'notify' | 'listener';

/**
 * Tells the outbox's readers (the relay, analytics aggregation) at once when events commit:
 * a LISTEN on `formhub_outbox`, which the writers of events notify after they commit
 * (OutboxNotifier), on a connection of its own (`Database.listen`). While it
 * listens its subscribers may poll slowly; when its connection drops they are woken (to
 * poll fast again until it is back), and woken again once it listens again, so that events
 * committed while it was down do not wait for a poll.
 */
export class OutboxSignal {
  private listener: ChannelListener | undefined;
  private up = false;
  private downSince: number | undefined;
  private readonly subscribers: ((source: OutboxWakeSource) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Told each time it starts or stops listening (the `formhub_outbox_listener_up` gauge). */
    private readonly onState: (listening: boolean) => void = () => undefined,
  ) {}

  /** True while the LISTEN holds: a commit wakes the subscribers within milliseconds. */
  get listening(): boolean {
    return this.up;
  }

  subscribe(wake: (source: OutboxWakeSource) => void): void {
    this.subscribers.push(wake);
  }

  /** Starts listening; false when this database cannot (its subscribers only poll). */
  start(): boolean {
    if (!this.db.listen) {
      this.logger.info('no LISTEN on this database connection; the outbox relay polls');
      return false;
    }
    this.listener = this.db.listen(OUTBOX_CHANNEL, {
      notified: () => this.wake('notify'),
      connected: () => this.connected(),
      disconnected: (reason, retryInMs) => this.disconnected(reason, retryInMs),
    });
    return true;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
    this.setUp(false);
  }

  private connected(): void {
    if (!this.listener) return;
    const downMs = this.downSince === undefined ? undefined : Date.now() - this.downSince;
    this.downSince = undefined;
    this.setUp(true);
    this.logger.info(
      { channel: OUTBOX_CHANNEL, ...(downMs === undefined ? {} : { downMs }) },
      downMs === undefined
        ? 'outbox listener connected; the relay wakes on commits'
        : 'outbox listener reconnected; relaying what was committed meanwhile',
    );
    this.wake('listener');
  }

  private disconnected(reason: string, retryInMs: number): void {
    if (!this.listener) return;
    const wasUp = this.up;
    this.downSince ??= Date.now();
    this.setUp(false);
    if (wasUp) {
      this.logger.warn(
        { err: reason, retryInMs },
        'outbox listener lost its connection; the relay polls at its short interval until it reconnects',
      );
      this.wake('listener');
    } else {
      this.logger.info({ err: reason, retryInMs }, 'outbox listener not connected yet; retrying');
    }
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.onState(up);
  }

  private wake(source: OutboxWakeSource): void {
    for (const wake of this.subscribers) wake(source);
  }
}
