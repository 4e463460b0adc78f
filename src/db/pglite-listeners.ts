import type { ChannelEvents, ChannelListener } from './database.ts';
import { reconnectDelay } from './reconnect-delay.ts';

interface Subscription {
  channel: string;
  events: ChannelEvents;
  /** Which LISTEN of it is the latest: an older one's answer (from an ended thread) is ignored. */
  generation: number;
  attempt: number;
  timer?: NodeJS.Timeout;
}

/**
 * The `listen`s of the embedded database (PgliteThreadDatabase). Each is a LISTEN in the
 * PGlite thread's session, whose notifications the thread sends back as messages. When the
 * thread ends (a statement past its bound, a crash) its session and LISTENs are gone: every
 * listener is told `disconnected`, and `connected` again once a LISTEN on the new thread
 * has answered.
 */
export class PgliteListeners {
  private readonly subscriptions = new Set<Subscription>();

  /** `send` issues one LISTEN on the current thread and resolves once it has run. */
  constructor(private readonly send: (channel: string) => Promise<unknown>) {}

  add(channel: string, events: ChannelEvents): ChannelListener {
    const subscription: Subscription = { channel, events, generation: 0, attempt: 0 };
    this.subscriptions.add(subscription);
    this.subscribe(subscription);
    return {
      close: async () => {
        clearTimeout(subscription.timer);
        // The LISTEN stays in PGlite's session until the thread ends; nothing calls back.
        this.subscriptions.delete(subscription);
      },
    };
  }

  /** A notification came from the thread. */
  notified(channel: string): void {
    for (const s of this.subscriptions) if (s.channel === channel) s.events.notified();
  }

  /** The thread ended: no LISTEN holds any more until `restarted`. */
  lost(reason: string): void {
    for (const s of this.subscriptions) {
      s.generation += 1;
      clearTimeout(s.timer);
      s.events.disconnected(reason, 0);
    }
  }

  /** A new thread runs: LISTEN on it. */
  restarted(): void {
    for (const s of this.subscriptions) this.subscribe(s);
  }

  private subscribe(s: Subscription): void {
    const generation = ++s.generation;
    this.send(s.channel).then(
      () => {
        if (s.generation !== generation || !this.subscriptions.has(s)) return;
        s.attempt = 0;
        s.events.connected();
      },
      (error: Error) => {
        if (s.generation !== generation || !this.subscriptions.has(s)) return;
        // The thread is still this one (a restart would have moved the generation on): try again.
        s.attempt += 1;
        const retryInMs = reconnectDelay(s.attempt);
        s.events.disconnected(error.message, retryInMs);
        s.timer = setTimeout(() => this.subscribe(s), retryInMs);
        s.timer.unref();
      },
    );
  }
}
