import { createServer, request as forward, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A forwarding front for a fake that cannot hang by itself. */
export interface HangingFront {
  /** Where clients connect instead of the fake (no trailing slash). */
  baseUrl: string;
  /** While true, requests are held open and never answered (until `close`). */
  hang: boolean;
  /** Requests that reached the front, held ones included. */
  received(): number;
  close(): Promise<void>;
}

/**
 * Starts an HTTP front on 127.0.0.1 that passes every request through to `target` (an
 * origin such as `http://127.0.0.1:4100`) unchanged, or holds it when told to hang: the
 * contract's `hang` answer for a vendor fake that only knows how to fail.
 */
export async function startHangingFront(target: string): Promise<HangingFront> {
  let received = 0;
  const held: ServerResponse[] = [];
  const front: HangingFront = {
    baseUrl: '',
    hang: false,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    received += 1;
    if (front.hang) return void held.push(res);
    const url = new URL(req.url ?? '/', target);
    const upstream = forward(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}
