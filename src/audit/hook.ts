import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/index.ts';
import { classify } from './classify.ts';
import { insertAuditEntry } from './queries.ts';

const CHANGES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
/** A created resource's id, first in its answer (`{"id": "...", ...}`): no parse of the whole body. */
const CREATED_ID = /^\{"id":"([^"]{1,64})"/;

/**
 * Records every successful change made with a workspace key in the audit log, before the
 * answer leaves: the client never sees a success its audit entry does not follow. Only the
 * route, the method, the ids and the address are kept: never a body, so never a secret.
 * An entry that cannot be written is logged as an error; the change itself has happened
 * and its answer is not turned into a failure.
 *
 * @param prefix the prefix the API's routes are under (`/api/v2`)
 */
export function registerAuditLog(app: FastifyInstance, db: Queryable, prefix: string): void {
  // Callback-style: most requests (every read, every public one) pass without a promise.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (
      request.principal?.kind !== 'workspace' ||
      !CHANGES.has(request.method) ||
      reply.statusCode >= 400
    )
      return done(null, payload);
    void record(db, prefix, request, payload).then(() => done(null, payload));
  });
}

/** Writes the audit entry of a successful change, if it is one; never throws. */
async function record(
  db: Queryable,
  prefix: string,
  request: FastifyRequest,
  payload: unknown,
): Promise<void> {
  const principal = request.principal;
  if (principal?.kind !== 'workspace') return;
  const pattern = request.routeOptions.url;
  if (!pattern?.startsWith(prefix)) return;
  const createdId =
    typeof payload === 'string' ? CREATED_ID.exec(payload.slice(0, 100))?.[1] : undefined;
  const entry = classify(
    request.method,
    pattern.slice(prefix.length),
    request.params as Record<string, string | undefined>,
    createdId,
  );
  if (!entry) return;
  try {
    await insertAuditEntry(db, {
      workspaceId: principal.workspaceId,
      keyId: principal.keyId,
      address: request.ip,
      action: entry.action,
      resourceType: entry.resource.type,
      resourceId: entry.resource.type === 'workspace' ? principal.workspaceId : entry.resource.id,
    });
  } catch (error) {
    request.log.error(
      { err: (error as Error).message, action: entry.action },
      'audit entry not written',
    );
  }
}
