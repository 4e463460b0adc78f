import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `console/build.ts` (Vite) writes the admin console: gitignored, rebuilt when stale. */
export const CONSOLE_OUT_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** Hashed asset names change with their content, so a browser may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The page itself: no inline script, every request only to this origin, never framed.
 * The API key lives in sessionStorage, so the page must not run anybody else's script.
 */
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT =
  '<!doctype html><title>formhub console</title><p>The admin console has not been built. Run <code>npm run build:console</code> (or <code>npm start</code>, which builds it) and reload.</p>';

/**
 * Serves the admin console at `/console`: hashed assets (precompressed .br/.gz beside them)
 * with a year-long immutable cache, and `index.html` with `no-cache` for `/console` and
 * every client route under it (SPA fallback).
 */
export async function registerConsole(
  app: FastifyInstance,
  outDir: string = CONSOLE_OUT_DIR,
): Promise<void> {
  const assets = join(outDir, 'assets');
  if (existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/console/assets/',
      decorateReply: false,
      preCompressed: true,
      index: false,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('cache-control', IMMUTABLE);
        reply.header('x-content-type-options', 'nosniff');
      },
    });
  }
  const page = async (_request: unknown, reply: FastifyReply) => {
    // Read on every request (it is under 1 KB) so a rebuild shows without a restart.
    // Not built yet: answered with a 503 that says how to build it.
    const html = await readFile(join(outDir, 'index.html'), 'utf8').catch(() => undefined);
    if (html === undefined)
      return reply
        .code(503)
        .headers({ ...PAGE_HEADERS, 'cache-control': 'no-store' })
        .send(NOT_BUILT);
    return reply.headers(PAGE_HEADERS).send(html);
  };
  app.get('/console', { schema: { hide: true } }, page);
  app.get('/console/*', { schema: { hide: true } }, page);
}
