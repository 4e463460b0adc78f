import type { FastifyReply } from 'fastify';
import type { MetricsDocument } from './metrics/index.ts';

export interface StreamOptions {
  /** At most one `metrics` event per this many ms (DESIGN: twice a second). */
  minIntervalMs?: number;
  /** A comment line this often keeps proxies from closing the stream. */
  keepAliveMs?: number;
  /** A client whose socket has not drained for this long is dropped. */
  drainTimeoutMs?: number;
  /**
   * Whether the stream's API key is still good; asked every `authCheckMs`. A stream whose
   * key was revoked, or whose check fails, ends (the client reconnects and is asked for a
   * key again), so it outlives a revocation by at most that long.
   */
  stillAuthorized?: () => Promise<boolean>;
  /** How often `stillAuthorized` is asked (default 30 s, within DESIGN's 60 s bound). */
  authCheckMs?: number;
}

/** Why a stream ended. */
export type StreamEnd = 'client' | 'slow' | 'shutdown' | 'revoked';

/**
 * The open metrics streams of one app, so that closing the app ends them (an open SSE
 * response would otherwise keep `server.close()` waiting) and so that their fate is visible.
 */
export class MetricsStreams {
  private readonly open = new Set<() => void>();
  /** Streams dropped because their client stopped reading. */
  dropped = 0;

  get size(): number {
    return this.open.size;
  }

  /** Ends every open stream; called when the app closes. */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }

  /** @internal */ add(end: () => void): void {
    this.open.add(end);
  }

  /** @internal */ remove(end: () => void): void {
    this.open.delete(end);
  }
}

/**
 * Serves Server-Sent Events on a hijacked reply: a `metrics` event at once and after each
 * change (coalesced to at most one per `minIntervalMs`), and a `: keep-alive` comment every
 * `keepAliveMs`.
 *
 * Back-pressure: once a write is not accepted whole by the socket, nothing more is queued
 * for that client; changes meanwhile only mark it stale, and on `drain` it gets one fresh
 * document. So at most one document waits per client, however slow it is, and a client
 * that does not drain within `drainTimeoutMs` is dropped. Ends when the client goes away,
 * when `streams.closeAll()` runs (app shutdown), or when `stillAuthorized` says the key
 * was revoked.
 */
export async function streamMetrics(
  reply: FastifyReply,
  load: () => Promise<MetricsDocument>,
  subscribe: (onChange: () => void) => () => void,
  options: StreamOptions = {},
  streams: MetricsStreams = new MetricsStreams(),
): Promise<void> {
  const minInterval = options.minIntervalMs ?? 500;
  const drainTimeout = options.drainTimeoutMs ?? 30_000;
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let lastSent = 0;
  let pending: NodeJS.Timeout | undefined;
  let congestedSince: NodeJS.Timeout | undefined;
  let stale = false;
  let closed = false;

  const end = (why: StreamEnd) => {
    if (closed) return;
    closed = true;
    if (why === 'slow') streams.dropped += 1;
    clearInterval(keepAlive);
    clearInterval(authCheck);
    clearTimeout(pending);
    clearTimeout(congestedSince);
    unsubscribe();
    streams.remove(shutdown);
    if (why === 'slow') raw.destroy();
    else if (why === 'shutdown') raw.end();
    else if (why === 'revoked') raw.end(': the API key is no longer valid\n\n');
  };
  const shutdown = () => end('shutdown');

  /** Writes unless the client is behind; answers false when the chunk was not written. */
  const write = (chunk: string): boolean => {
    if (closed || congestedSince) return false;
    if (!raw.write(chunk)) congestedSince = setTimeout(() => end('slow'), drainTimeout);
    return true;
  };
  const send = async () => {
    pending = undefined;
    lastSent = Date.now();
    let chunk: string;
    try {
      chunk = `event: metrics\ndata: ${JSON.stringify(await load())}\n\n`;
    } catch {
      chunk = `: metrics unavailable, retrying on the next change\n\n`;
    }
    if (!write(chunk)) stale = true;
  };
  const onChange = () => {
    if (closed || pending) return;
    if (congestedSince) {
      stale = true;
      return;
    }
    pending = setTimeout(() => void send(), Math.max(0, lastSent + minInterval - Date.now()));
  };

  const unsubscribe = subscribe(onChange);
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
  const { stillAuthorized } = options;
  const authCheck = stillAuthorized
    ? setInterval(() => {
        // A check that throws ends the stream too: failing closed costs a reconnect.
        stillAuthorized().then(
          (ok) => ok || end('revoked'),
          () => end('revoked'),
        );
      }, options.authCheckMs ?? 30_000)
    : undefined;
  streams.add(shutdown);
  raw.on('drain', () => {
    clearTimeout(congestedSince);
    congestedSince = undefined;
    if (stale) {
      stale = false;
      onChange();
    }
  });
  raw.on('close', () => end('client'));
  await send();
}
