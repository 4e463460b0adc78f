/**
 * A bare webhook receiver for bench/delivery.ts, run as a child process of its own (so that
 * its CPU is not the sender's): node:http on 127.0.0.1, answering as soon as a request's
 * body has arrived. Paths starting with `/flaky` answer 500 to a random RECEIVER_FAIL_RATE
 * (default 0.3) of requests, from a seeded PRNG (RECEIVER_SEED); every other path answers
 * 200 `ok`. Each request is recorded under its path: arrival time (epoch ms with sub-ms
 * precision, comparable across processes of this machine), status answered, X-Webhook-Id
 * and the `response.id` of the body.
 *
 * Started with `fork` (an IPC channel): it sends `{type: 'ready', port}`, then answers
 * `{cmd: 'summary' | 'dump' | 'reset', path?}` messages with `{type: 'summary' | 'dump' | 'reset', ...}`.
 */

import { createServer } from 'node:http';

interface Log {
  at: number[];
  status: number[];
  webhookId: string[];
  responseId: string[];
  bytes: number[];
}

export interface ReceiverSummary {
  path: string;
  requests: number;
  ok: number;
  /** Mean body size, bytes. */
  meanBytes: number;
  first: number | null;
  last: number | null;
}

export interface ReceiverDump extends Log {
  path: string;
}

export type ReceiverCommand = { cmd: 'summary' | 'dump' | 'reset'; path?: string };

const FAIL_RATE = Number(process.env.RECEIVER_FAIL_RATE ?? '0.3');
const RESPONSE_ID = /"response":\{"id":"([0-9a-f-]{36})"/;

/** mulberry32, so that a run's failures can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = seeded(Number(process.env.RECEIVER_SEED ?? '20261128'));
const logs = new Map<string, Log>();
const now = () => performance.timeOrigin + performance.now();

function logOf(path: string): Log {
  let log = logs.get(path);
  if (!log)
    logs.set(path, (log = { at: [], status: [], webhookId: [], responseId: [], bytes: [] }));
  return log;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const at = now();
    const path = (req.url ?? '/').split('?')[0]!;
    const status = path.startsWith('/flaky') && random() < FAIL_RATE ? 500 : 200;
    res.writeHead(status, {
      'content-type': 'text/plain',
      'content-length': status === 200 ? 2 : 4,
    });
    res.end(status === 200 ? 'ok' : 'fail');
    const body = Buffer.concat(chunks).toString('utf8');
    const log = logOf(path);
    log.bytes.push(Buffer.byteLength(body));
    log.at.push(at);
    log.status.push(status);
    log.webhookId.push(String(req.headers['x-webhook-id'] ?? ''));
    log.responseId.push(RESPONSE_ID.exec(body)?.[1] ?? '');
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;

function summary(path: string): ReceiverSummary {
  const log = logOf(path);
  let first = Infinity;
  let last = -Infinity;
  for (const t of log.at) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const ok = log.status.filter((s) => s >= 200 && s < 300).length;
  return {
    path,
    requests: log.at.length,
    ok,
    meanBytes:
      log.bytes.length > 0
        ? Math.round(log.bytes.reduce((a, b) => a + b, 0) / log.bytes.length)
        : 0,
    first: log.at.length > 0 ? first : null,
    last: log.at.length > 0 ? last : null,
  };
}

process.on('message', (message: ReceiverCommand) => {
  const path = message.path ?? '/';
  if (message.cmd === 'summary') process.send!({ type: 'summary', ...summary(path) });
  else if (message.cmd === 'dump') process.send!({ type: 'dump', path, ...logOf(path) });
  else if (message.cmd === 'reset') {
    logs.delete(path);
    process.send!({ type: 'reset', path });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send!({ type: 'ready', port });
});
