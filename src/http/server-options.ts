import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config/index.ts';

type TrustProxyFunction = (address: string, hop: number) => boolean;

/** Longest an idle keep-alive socket is kept between two requests. */
export const KEEP_ALIVE_TIMEOUT_MS = 10_000;
/** Longest wait for a request's headers (a slow-headers client is cut off after this). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Longest a socket may stay silent both ways (a client that never reads its answer). */
export const SOCKET_IDLE_TIMEOUT_MS = 5 * 60_000;

/**
 * The socket limits of the HTTP server (DESIGN.md section 3a), for `Fastify(...)`:
 *
 * - the whole request (headers and body) must arrive within HTTP_REQUEST_TIMEOUT, else
 *   408 and the socket is closed; the headers alone within 10 s (or the request timeout
 *   when that is shorter);
 * - an idle keep-alive socket is closed after 10 s (or the request timeout when shorter);
 * - a socket silent both ways for 5 minutes is closed (a client that never reads).
 *
 * Node checks these deadlines on a timer (30 s by default); it runs every second here, or
 * more often with a short request timeout, so a slow client is cut off close to its
 * deadline. The same options serve `formhub serve`, `formhub api` and every worker of
 * `formhub api --workers N`, which all build the app with `buildApp`.
 */
export function serverOptions(http: Config['http']): FastifyServerOptions & { http: object } {
  const requestTimeout = http.requestTimeoutMs;
  return {
    requestTimeout,
    keepAliveTimeout: Math.min(KEEP_ALIVE_TIMEOUT_MS, requestTimeout),
    connectionTimeout: Math.max(SOCKET_IDLE_TIMEOUT_MS, 2 * requestTimeout),
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
    trustProxy: trustProxyOption(http.trustProxy),
    clientErrorHandler: writeClientError,
  };
}

/**
 * TRUST_PROXY as fastify takes it: a copy of a list (fastify wants a mutable one); a hop
 * count as the function fastify itself makes of one (trust the `n` nearest hops).
 */
function trustProxyOption(
  value: Config['http']['trustProxy'],
): boolean | string[] | TrustProxyFunction {
  if (typeof value === 'object') return [...value];
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value;
  return value;
}

/**
 * Errors Node reports before fastify sees a request (a request that timed out, headers
 * too large, a malformed request line): answered in the error shape, then the socket is
 * closed, as Node itself does.
 */
export function writeClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request did not arrive within HTTP_REQUEST_TIMEOUT']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: { code: 'invalid_request', message, details: [] } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
