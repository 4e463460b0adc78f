import { request, type Dispatcher } from 'undici';
import type { HttpClient, HttpRequest, HttpResponse } from '@formhub/sdk';
import { blockedAddressIn, type BlockedAddressError } from '../net/index.ts';
import type { AttemptAbort } from './attempt-abort.ts';
import { excerpt } from './response-excerpt.ts';

/** What the attempt log keeps of one HTTP exchange. */
export interface Exchange {
  statusCode: number;
  latencyMs: number;
  excerpt: string;
}

/** Bodies are read up to this many bytes; the attempt log keeps 20 KB of them. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The HTTP client plugins get: undici through the SSRF-guarded agent (the address that
 * was checked is the one connected to), the attempt's abort switch, no redirects, and
 * every exchange recorded for the attempt log.
 */
export class RecordingClient implements HttpClient {
  readonly exchanges: Exchange[] = [];

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly abort: AttemptAbort,
    /** Told of a target refused for its address (the attempt log only says "not allowed"). */
    private readonly onRefused?: (error: BlockedAddressError, url: string) => void,
  ) {
    // Plugins may take `ctx.http.request` on its own (as a fetch adapter, say).
    this.request = this.request.bind(this);
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, {
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        dispatcher: this.dispatcher,
        signal: this.abort,
      });
    } catch (error) {
      const blocked = blockedAddressIn(error);
      if (blocked) this.onRefused?.(blocked, req.url);
      throw error;
    }
    const body = await readCapped(res.body, res.headers['content-length']);
    const latencyMs = Math.round(performance.now() - started);
    this.exchanges.push({ statusCode: res.statusCode, latencyMs, excerpt: excerpt(body) });
    return received(res.statusCode, res.headers, body);
  }
}

/**
 * A response as plugins see it. Headers are flattened and the body decoded when first read
 * (most plugins read neither); both are enumerable, so a spread or JSON copy has them.
 */
function received(
  status: number,
  raw: Record<string, string | string[] | undefined>,
  bytes: Buffer,
): HttpResponse {
  let headers: Record<string, string> | undefined;
  let text: string | undefined;
  return {
    status,
    get headers() {
      headers ??= flatten(raw);
      return headers;
    },
    get body() {
      text ??= bytes.toString('utf8');
      return text;
    },
  };
}

type Body = Dispatcher.ResponseData['body'];

/**
 * The body, at most MAX_BODY_BYTES of it (the rest is read and dropped). A body whose
 * declared length fits is read in one go, without an async iterator.
 */
async function readCapped(
  body: Body,
  contentLength: string | string[] | undefined,
): Promise<Buffer> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : NaN;
  if (declared >= 0 && declared <= MAX_BODY_BYTES) {
    return Buffer.from(await body.arrayBuffer()).subarray(0, MAX_BODY_BYTES);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size < MAX_BODY_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES);
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
