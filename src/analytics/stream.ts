import type { FastifyReply } from 'fastify';
import type { MetricsDocument } from './metrics/index.ts';

export interface StreamOptions {
  /** At most one `metrics` event per this many ms (DESIGN: twice a second). */
  minIntervalMs?: number;
  /** A comment line this often keeps proxies from closing the stream. */
  keepAliveMs?: number;
}

/**
 * Serves Server-Sent Events on a hijacked reply: a `metrics` event at once and after each
 * change (coalesced to at most one per `minIntervalMs`), and a `: keep-alive` comment every
 * `keepAliveMs`. Ends when the client goes away.
 */
export async function streamMetrics(
  reply: FastifyReply,
  load: () => Promise<MetricsDocument>,
  subscribe: (onChange: () => void) => () => void,
  options: StreamOptions = {},
): Promise<void> {
  const minInterval = options.minIntervalMs ?? 500;
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
  let closed = false;
  const send = async () => {
    pending = undefined;
    lastSent = Date.now();
    try {
      const document = await load();
      if (!closed) raw.write(`event: metrics\ndata: ${JSON.stringify(document)}\n\n`);
    } catch {
      if (!closed) raw.write(`: metrics unavailable, retrying on the next change\n\n`);
    }
  };
  const onChange = () => {
    if (closed || pending) return;
    pending = setTimeout(() => void send(), Math.max(0, lastSent + minInterval - Date.now()));
  };
  const unsubscribe = subscribe(onChange);
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
  raw.on('close', () => {
    closed = true;
    clearInterval(keepAlive);
    clearTimeout(pending);
    unsubscribe();
  });
  await send();
}
