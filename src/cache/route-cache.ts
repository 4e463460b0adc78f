import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { etagMatches } from '../common/index.ts';
import type { Caches, NamedCache } from './cache.ts';

/** What a route says to be cached: `config: cached({ ttl: 30_000 })`. */
export interface CachedRouteOptions {
  /** Lifetime of an answer in ms, in L1 and L2 alike. */
  ttl: number;
}

interface CachedAnswer {
  body: string;
  etag: string;
  type: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    cache?: CachedRouteOptions;
  }
  interface FastifyRequest {
    routeCacheKey?: string;
  }
}

/** The route option that caches a GET route's 200 answers (see `cachedRoutes`). */
export function cached(options: CachedRouteOptions): { cache: CachedRouteOptions } {
  return { cache: options };
}

/**
 * Registers the `cached({ ttl })` route option on `app`: GET routes whose `config` carries
 * it answer from the cache, with an ETag and 304 on a matching If-None-Match. The key is the
 * caller's workspace (or "public") plus the route, its parameters and its query (see `routeKey`), plus the workspace's cache
 * generation, so one workspace never sees another's answer. Any successful write by a
 * workspace key (POST, PATCH, PUT, DELETE) starts a new generation for that workspace in
 * every process; changes made by others (public submissions, the worker) show when the
 * TTL ends, so only read-mostly routes should use it, with a short TTL.
 */
export function cachedRoutes(app: FastifyInstance, caches: Caches): void {
  const answers = caches.named<CachedAnswer>('routes');
  const generations = caches.named<string>('route_generation');
  const generationOf = async (scope: string) =>
    (await generations.get(scope, async () => randomUUID())) ?? 'none';

  app.addHook('onRoute', (route: RouteOptions) => {
    const options = route.config?.cache;
    if (!options || route.method !== 'GET') return;
    route.preHandler = [...hooks(route.preHandler), lookup(answers, generationOf)];
    route.onSend = [...hooks(route.onSend), store(answers, options)];
  });
  // Before the answer leaves, so that a client that saw its write succeed reads it back.
  app.addHook('onSend', (request, reply, payload, done) => {
    const scope =
      request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400
        ? 'public'
        : scopeOf(request);
    if (scope === 'public') return done(null, payload);
    generations.invalidate(scope).then(
      () => done(null, payload),
      (error: Error) => done(error),
    );
  });
}

/**
 * Starts a new route-cache generation for a workspace, in every process: for changes made
 * outside its requests (the worker erasing responses), which the write hook does not see.
 */
export async function invalidateRouteCaches(caches: Caches, workspaceId: string): Promise<void> {
  await caches.named<string>('route_generation').invalidate(workspaceId);
}

function lookup(
  answers: NamedCache<CachedAnswer>,
  generationOf: (scope: string) => Promise<string>,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const scope = scopeOf(request);
    const key = `${scope}:${await generationOf(scope)}:${formsOf(request)}${routeKey(request)}`;
    const hit = await answers.get(key, async () => undefined);
    if (!hit) {
      request.routeCacheKey = key;
      reply.header('x-cache', 'miss');
      return;
    }
    reply
      .header('etag', hit.etag)
      .header('x-cache', 'hit')
      .header('cache-control', 'private, no-cache');
    if (etagMatches(request.headers['if-none-match'], hit.etag)) return reply.code(304).send();
    return reply.type(hit.type).send(hit.body);
  };
}

function store(answers: NamedCache<CachedAnswer>, options: CachedRouteOptions) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = request.routeCacheKey;
    if (!key || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    const etag = `"${createHash('sha1').update(payload).digest('base64url')}"`;
    const type = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
    reply.header('etag', etag).header('cache-control', 'private, no-cache');
    // The answer is sent either way; an answer not cached is computed again next time.
    await answers.set(key, { body: payload, etag, type }, options.ttl).catch(() => undefined);
    if (etagMatches(request.headers['if-none-match'], etag)) {
      reply.code(304);
      return '';
    }
    return payload;
  };
}

/**
 * The request as the route sees it: its path pattern with the parameters and the query
 * after validation, so that spellings of one id (ids are case-insensitive and lower-cased
 * at the edge, src/http/id-case.ts) or of one query share one entry.
 */
function routeKey(request: FastifyRequest): string {
  return `${request.routeOptions.url ?? request.url}:${JSON.stringify(request.params)}:${JSON.stringify(request.query)}`;
}

/** A key limited to forms sees only those forms' answers: its own entries (DESIGN.md 4b). */
function formsOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal?.kind !== 'workspace' || principal.formIds === null) return '';
  return `forms=${[...principal.formIds].sort().join(',')}:`;
}

function scopeOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return 'public';
  return principal.kind === 'workspace' ? principal.workspaceId : 'admin';
}

function hooks<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
