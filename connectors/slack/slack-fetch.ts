import type { HttpClient } from '@formhub/sdk';
import type { FetchFunction } from '@slack/web-api';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;

/** Statuses whose answer cannot carry a body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for `@slack/web-api` that goes through the hub's HTTP client: the attempt's
 * timeout and abort signal, no redirects, the private-target policy, and every exchange
 * (status, Slack's JSON answer) in the delivery's attempt log.
 *
 * @example new WebClient(token, { fetch: fetchOver(ctx.http) });
 */
export function fetchOver(http: HttpClient): FetchFunction {
  return async (url, init: FetchRequestInit = {}) => {
    if (init.body !== undefined && typeof init.body !== 'string') {
      throw new TypeError('the Slack connector sends url-encoded bodies only (no file uploads)');
    }
    const exchange = http.request({
      url: String(url),
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      body: init.body,
    });
    const res = await abortable(exchange, init.signal);
    const body = NULL_BODY_STATUSES.has(res.status) ? null : res.body;
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

/** Rejects as soon as `signal` aborts (the client's own timeout), else settles with `work`. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
