import { request, type Dispatcher } from 'undici';
import type { HttpClient, HttpRequest, HttpResponse } from '@formhub/sdk';
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
 * was checked is the one connected to), the attempt's abort signal, no redirects, and
 * every exchange recorded for the attempt log.
 */
export function createRecordingClient(
  dispatcher: Dispatcher,
  signal: AbortSignal,
): { client: HttpClient; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const client: HttpClient = {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const started = performance.now();
      const res = await request(req.url, {
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal,
      });
      const body = await readCapped(res.body);
      const latencyMs = Math.round(performance.now() - started);
      exchanges.push({ statusCode: res.statusCode, latencyMs, excerpt: excerpt(body) });
      return { status: res.statusCode, headers: flatten(res.headers), body: body.toString('utf8') };
    },
  };
  return { client, exchanges };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
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
