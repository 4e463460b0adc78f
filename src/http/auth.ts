import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import type { Principal } from '../common/index.ts';
import type { UnauthorizedLimiter } from './rate-limit.ts';
import { guardRoute, type FormOf } from './scopes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hooks when the request carries a valid bearer key. */
    principal?: Principal;
  }
}

/**
 * Resolves a key; `beforeLookup` runs only when the key must be looked up in the database
 * (it is in no cache), and may throw to refuse the lookup.
 */
type Authenticate = (
  key: string,
  beforeLookup?: () => Promise<void>,
) => Promise<Principal | undefined>;
type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The bearer key of a request, or undefined when there is no Authorization header. */
export function bearerKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError('unauthorized', 'Authorization must be "Bearer <key>"');
  return match[1];
}

/** The auth hooks routes choose from: `workspace`, `admin`, or `optional` (public routes). */
export interface AuthHooks {
  workspace: Hook;
  admin: Hook;
  optional: Hook;
}

/**
 * Builds the preHandler hooks that resolve the bearer key to a principal and check a
 * workspace key against the route's `scoped(...)` option (`formOf` finds the form of a
 * resource, for keys limited to forms). With `failures`,
 * invalid keys (and malformed Authorization headers) count against the client address
 * (`request.ip`, so TRUST_PROXY applies): past the limit they answer 429, and keys in no
 * cache are not looked up any more until the window ends.
 */
export function createAuthHooks(
  authenticate: Authenticate,
  failures?: UnauthorizedLimiter,
  formOf?: FormOf,
): AuthHooks {
  const fail = async (request: FastifyRequest, error: AppError): Promise<never> => {
    throw failures ? await failures.fail(request.ip, error) : error;
  };
  const resolve = async (
    request: FastifyRequest,
    required: boolean,
  ): Promise<Principal | undefined> => {
    let key: string | undefined;
    try {
      key = bearerKey(request);
    } catch (error) {
      return error instanceof AppError ? fail(request, error) : Promise.reject(error);
    }
    if (!key) {
      if (required)
        throw new AppError('unauthorized', 'an API key is required (Authorization: Bearer <key>)');
      return undefined;
    }
    const principal = await authenticate(key, failures && (() => failures.check(request.ip)));
    if (!principal) return fail(request, new AppError('unauthorized', 'the API key is not valid'));
    request.principal = principal;
    return principal;
  };
  return {
    async workspace(request) {
      const principal = await resolve(request, true);
      if (principal?.kind !== 'workspace') {
        throw new AppError('forbidden', 'this route needs a workspace API key, not the admin key');
      }
      await guardRoute(request, principal, formOf);
    },
    async admin(request) {
      const principal = await resolve(request, true);
      if (principal?.kind !== 'admin')
        throw new AppError('forbidden', 'this route needs the admin key');
    },
    async optional(request) {
      const principal = await resolve(request, false);
      if (principal?.kind === 'workspace') await guardRoute(request, principal, formOf);
    },
  };
}

/** The workspace of an authenticated request (after the `workspace` hook). */
export function workspaceOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal?.kind !== 'workspace') throw new AppError('unauthorized', 'an API key is required');
  return principal.workspaceId;
}

/** The workspace of an optional-auth request, when it carried a workspace key. */
export function optionalWorkspaceOf(request: FastifyRequest): string | undefined {
  return request.principal?.kind === 'workspace' ? request.principal.workspaceId : undefined;
}
