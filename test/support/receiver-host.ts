/**
 * The webhook receiver of the multi-host test, run as a process of its own on its own host
 * (`ip netns exec <ns> node --import tsx test/support/receiver-host.ts`, or plainly on
 * 127.0.0.1 in the same-host variant). It listens on RECEIVER_HOST:RECEIVER_PORT, prints
 * `RECEIVER_READY <port>` once it does, and records each request: path, X-Webhook-Id,
 * the body's `response.id`, the sender's address and port, when it arrived, and whether
 * its 2xx answer reached a live connection (a sender killed mid-request never gets it).
 *
 * The test talks to it over HTTP: `GET /_records` answers every record so far;
 * `POST /_delay?ms=N` makes it hold each later request N ms before answering (a slow
 * receiver, to catch a worker mid-delivery).
 */
import { createServer } from 'node:http';

export interface ReceivedHit {
  path: string;
  webhookId: string;
  responseId: string | null;
  from: string;
  fromPort: number;
  at: number;
  /** When the answer was written; null while the request is held (or its sender went away). */
  answeredAt: number | null;
  /** The 200 was handed to a connection that was still open. */
  acknowledged: boolean;
  /** The sender closed the connection before the answer. */
  abandoned: boolean;
}

const hits: ReceivedHit[] = [];
let delayMs = 0;

function responseIdOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { response?: { id?: unknown } };
    return typeof parsed.response?.id === 'string' ? parsed.response.id : null;
  } catch {
    return null;
  }
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://receiver');
  if (url.pathname === '/_records') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(hits));
    return;
  }
  if (url.pathname === '/_delay') {
    delayMs = Number(url.searchParams.get('ms') ?? '0');
    res.writeHead(204).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const hit: ReceivedHit = {
      path: url.pathname,
      webhookId: String(req.headers['x-webhook-id'] ?? ''),
      responseId: responseIdOf(Buffer.concat(chunks).toString('utf8')),
      from: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '',
      fromPort: req.socket.remotePort ?? 0,
      at: Date.now(),
      answeredAt: null,
      acknowledged: false,
      abandoned: false,
    };
    hits.push(hit);
    req.socket.once('close', () => {
      if (hit.answeredAt === null) hit.abandoned = true;
    });
    const answer = () => {
      if (req.socket.destroyed) return;
      res.on('finish', () => {
        if (!req.socket.destroyed) hit.acknowledged = true;
      });
      hit.answeredAt = Date.now();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;

server.listen(Number(process.env.RECEIVER_PORT ?? '0'), process.env.RECEIVER_HOST ?? '127.0.0.1');
server.on('listening', () => {
  const address = server.address();
  console.log(`RECEIVER_READY ${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
