import { PassThrough } from 'node:stream';
import type { HttpClient, HttpResponse } from '@formhub/sdk';
import type { Connection } from 'jsforce';

type JsforceTransport = Connection['_transport'];
type TransportRequest = Parameters<JsforceTransport['httpRequest']>[0];
type TransportResult = ReturnType<JsforceTransport['httpRequest']>;

/**
 * A jsforce transport that sends every request through the hook's `ctx.http`.
 *
 * jsforce 3 has no per-connection timeout (only the process-wide `HTTP_TIMEOUT`, 30 minutes
 * by default), no way to take an abort signal, and its own fetch retries with backoff; it
 * also reads `HTTP(S)_PROXY` from the environment. `ctx.http` has none of that: the attempt's
 * timeout and `ctx.signal`, no redirects, the hub's private-address guard, no retries (the
 * delivery engine alone decides them), and every exchange in the attempt log. jsforce still
 * builds the requests, adds the bearer token and parses answers and errors.
 *
 * It remembers the last answer, because jsforce's errors do not carry the HTTP status.
 *
 * @example
 * const transport = useContextTransport(conn, ctx.http);
 * await conn.sobject('Lead').create(record); // sent with ctx.http
 */
export class ContextTransport {
  /** The last answer Salesforce gave on this connection, if any. */
  lastResponse: HttpResponse | undefined;

  constructor(private readonly http: HttpClient) {}

  /** What jsforce's HttpApi calls: a promise of the answer that also has a `stream()`. */
  httpRequest(request: TransportRequest): TransportResult {
    const stream = new PassThrough();
    const promise = this.send(request).then(
      (response) => {
        stream.end(response.body);
        return response;
      },
      (error: unknown) => {
        stream.end();
        throw error;
      },
    );
    return Object.assign(promise, { stream: () => stream });
  }

  private async send(request: TransportRequest) {
    const { body } = request;
    if (body !== undefined && typeof body !== 'string') {
      throw new TypeError('only JSON request bodies are supported by this connector');
    }
    const response = await this.http.request({
      url: request.url,
      method: request.method,
      headers: withoutContentLength(request.headers ?? {}),
      ...(body === undefined ? {} : { body }),
    });
    this.lastResponse = response;
    return {
      statusCode: response.status,
      headers: lowerCaseKeys(response.headers),
      body: response.body,
    };
  }
}

/**
 * Makes `conn` send through `http`. `_transport` is jsforce's one seam for this (its own
 * proxy and canvas transports use it); the connector's tests fail if jsforce stops using it,
 * since they check the attempt log that only `ctx.http` writes.
 */
export function useContextTransport(conn: Connection, http: HttpClient): ContextTransport {
  const transport = new ContextTransport(http);
  conn._transport = transport as unknown as JsforceTransport;
  return transport;
}

/** jsforce sets `content-length` itself; the HTTP client computes it from the body. */
function withoutContentLength(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
}

/** jsforce looks headers up in lower case (`content-type`, `sforce-limit-info`). */
function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
