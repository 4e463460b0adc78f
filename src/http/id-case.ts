import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normaliseId } from '../common/index.ts';

/** Names of parameters, query keys and body keys that hold our ids. */
const ID_KEY = /^(?:id|[a-z_]+_ids?)$/;
/** Ids of other systems, case-sensitive: never rewritten. */
const FOREIGN_ID_KEYS = new Set(['connection_id']);

/**
 * Ids are UUIDs and case-insensitive (DESIGN.md section 3a): every id a request carries is
 * brought to lower case here, once, before validation and before any hook or handler uses
 * it. Path parameters (any UUID-shaped value, percent-encoded or not), query keys and
 * top-level body keys named `id`, `*_id` or `*_ids` (e.g. `form_id`). Answers in `data`
 * and any other text are left alone.
 */
export function registerIdCase(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    normaliseIds(request);
    done();
  });
}

/** Lower-cases the ids of a request in place (exported for tests). */
export function normaliseIds(request: Pick<FastifyRequest, 'params' | 'query' | 'body'>): void {
  const params = request.params;
  if (isRecord(params))
    for (const key of Object.keys(params)) params[key] = normaliseId(params[key]);
  normaliseKeys(request.query);
  normaliseKeys(request.body);
}

function normaliseKeys(target: unknown): void {
  if (!isRecord(target)) return;
  for (const key of Object.keys(target)) {
    if (!ID_KEY.test(key) || FOREIGN_ID_KEYS.has(key)) continue;
    const value = target[key];
    target[key] = Array.isArray(value)
      ? value.map((item) => normaliseId(item))
      : normaliseId(value);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
