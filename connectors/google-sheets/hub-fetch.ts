import type { HttpClient } from '@formhub/sdk';

/**
 * A `fetch` for the Google client (gaxios `fetchImplementation`) that sends every request
 * through the context's HTTP client, so that the hub applies its attempt deadline and
 * target rules and records each exchange: the attempt log then shows Google's status and
 * answer (the append's `updatedRange`, or Google's error JSON) instead of status 0.
 *
 * `Accept-Encoding` is dropped: the hub's client hands bodies back as received, so the
 * answer must not be compressed. The hub keeps at most 256 KB of a body; callers that may
 * read more (the `id` column) read in pages.
 *
 * @example sheets({ version: 'v4', auth }).spreadsheets.values.get(params, { fetchImplementation: fetchThrough(ctx.http) });
 */
export function fetchThrough(http: HttpClient): typeof fetch {
  const send = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.delete('accept-encoding');
    const body = init.body ?? undefined;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      throw new TypeError('only string and byte request bodies are supported');
    }
    const url = input instanceof Request ? input.url : String(input);
    const exchange = http.request({
      url,
      method: init.method ?? 'GET',
      headers: Object.fromEntries(headers.entries()),
      body,
    });
    const res = await abortable(exchange, init.signal ?? undefined);
    const empty = res.status === 204 || res.status === 304;
    return new Response(empty ? null : res.body, { status: res.status, headers: res.headers });
  };
  return send as typeof fetch;
}

/** Rejects as soon as `signal` aborts (the per-request timeout), whatever `work` does. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
