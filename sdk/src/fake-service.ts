import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAnswer, ServiceFake } from './contract.ts';

/** One canned HTTP answer. */
export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A request the fake received. */
export interface FakeRequest {
  method: string;
  /** Path and query, e.g. `/in?x=1`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeServiceOptions {
  /**
   * How the service says each thing (a `hang` never answers). Defaults: `ok` 200
   * `{"ok":true}`, `4xx` 400, `429` with `Retry-After: 1`, `5xx` 503, all JSON. A service
   * that reports errors inside a 200 (Slack's `{"ok":false}`) overrides `4xx` accordingly.
   */
  replies?: Partial<
    Record<Exclude<FakeAnswer, 'hang'>, FakeReply | ((request: FakeRequest) => FakeReply)>
  >;
}

/** A running fake: the contract's {@link ServiceFake}, plus what it received. */
export interface FakeService extends ServiceFake {
  requests: FakeRequest[];
}

const JSON_HEADERS = { 'content-type': 'application/json' };

const DEFAULT_REPLIES: Record<Exclude<FakeAnswer, 'hang'>, FakeReply> = {
  ok: { status: 200, headers: JSON_HEADERS, body: '{"ok":true}' },
  '4xx': { status: 400, headers: JSON_HEADERS, body: '{"error":"invalid_request"}' },
  '429': {
    status: 429,
    headers: { ...JSON_HEADERS, 'retry-after': '1' },
    body: '{"error":"rate_limited"}',
  },
  '5xx': { status: 503, headers: JSON_HEADERS, body: '{"error":"unavailable"}' },
};

/**
 * A local HTTP service on 127.0.0.1 (a random port) that answers every request the way it
 * was last told (`respondWith`, `ok` at first) and records what it got. Enough for a
 * connector that speaks plain HTTP; a connector for a richer API gives `replies` in that
 * API's shapes, or writes its own {@link ServiceFake}.
 *
 * @example
 * const fake = await startFakeService();
 * fake.respondWith('5xx');
 * await runPlugin(new MyPlugin(), { config: { url: `${fake.baseUrl}/in` } });
 * await fake.close();
 */
export async function startFakeService(options: FakeServiceOptions = {}): Promise<FakeService> {
  const requests: FakeRequest[] = [];
  let answer: FakeAnswer = 'ok';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const current = answer;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(request);
      if (current !== 'hang') {
        reply(res, options.replies?.[current] ?? DEFAULT_REPLIES[current], request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (next) => void (answer = next),
    received: () => requests.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(
  res: ServerResponse,
  canned: FakeReply | ((request: FakeRequest) => FakeReply),
  request: FakeRequest,
): void {
  const { status, headers, body } = typeof canned === 'function' ? canned(request) : canned;
  res.writeHead(status, headers ?? {}).end(body ?? '');
}
