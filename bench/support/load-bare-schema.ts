/**
 * The schema ceiling's baseline: a bare node:http server in `BARE_WORKERS` cluster workers
 * (the hub's process count) answering every request with the bytes and headers the hub
 * gave for one form's schema (BARE_PAYLOAD: JSON `{ body: base64, headers }`), on
 * 127.0.0.1:PORT. No routing, no parsing, no cache lookup: what node:http alone costs.
 *
 *   BARE_PAYLOAD=... PORT=... BARE_WORKERS=2 node --import tsx bench/support/load-bare-schema.ts
 */

import cluster from 'node:cluster';
import { createServer } from 'node:http';

const workers = Number(process.env.BARE_WORKERS ?? '2');

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const payload = JSON.parse(process.env.BARE_PAYLOAD ?? '{}') as {
    body: string;
    headers: Record<string, string>;
  };
  const body = Buffer.from(payload.body, 'base64');
  const headers = { ...payload.headers, 'content-length': String(body.length) };
  const server = createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
