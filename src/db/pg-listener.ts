import pg from 'pg';
import type { ChannelEvents, ChannelListener } from './database.ts';
import { reconnectDelay } from './reconnect-delay.ts';

/** How the listener's session is named in `pg_stat_activity.application_name`. */
export const LISTENER_APPLICATION_NAME = 'formhub-listener';

export interface PgListenerOptions {
  url: string;
  channel: string;
  /**
   * How often the idle connection is checked with `SELECT 1` (default 30 s): a connection a
   * network cut left half-open reports nothing by itself, and would stay "connected" while
   * no notification can reach it.
   */
  heartbeatMs?: number;
  /** How long a connect, the LISTEN or a heartbeat may take before the connection is dropped. */
  timeoutMs?: number;
}

/**
 * LISTEN on a PostgreSQL connection of its own, outside the pool (a pooled connection
 * would be handed to other work, and its LISTEN would end when the pool closes it). When
 * the connection drops (a restart of PostgreSQL, a network cut, `pg_terminate_backend`) it
 * reports `disconnected` and tries again after `reconnectDelay`, doubling up to 10 s, until
 * it LISTENs again (`connected`) or is closed.
 */
export class PgChannelListener implements ChannelListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly options: PgListenerOptions,
    private readonly events: ChannelEvents,
  ) {
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    // Ending a connection that already failed has nothing more to report.
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      keepAlive: true,
    });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.events.notified();
    });
    // Both end the session: reported once, by `lost`, whichever comes first.
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'the connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      return this.lost(client, (error as Error).message);
    }
    if (this.client !== client) return; // lost or closed meanwhile: reported there
    this.attempt = 0;
    this.heartbeat = setInterval(() => this.beat(client), this.options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
    this.events.connected();
  }

  private beat(client: pg.Client): void {
    client.query('SELECT 1').catch((error: Error) => this.lost(client, error.message));
  }

  /** `client` is no longer listening: drop it and try again after the back-off. */
  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    // Its session is over, or useless: ending it can only fail, which changes nothing.
    void client.end().catch(() => undefined);
    this.attempt += 1;
    const retryInMs = reconnectDelay(this.attempt);
    this.events.disconnected(reason, retryInMs);
    this.timer = setTimeout(() => void this.connect(), retryInMs);
    this.timer.unref();
  }
}
