import type { FastifyRequest } from 'fastify';
import { isUuid, mayReachForm, type Principal, type Scope } from '../common/index.ts';
import { AppError, notFound } from '../errors/index.ts';

/**
 * What a route needs of a key: one scope (DESIGN.md section 4b), `any` (any valid workspace
 * key), `public` (no key needed; a key, when sent, is not checked against a scope) or
 * `admin` (the admin key).
 */
export type RouteScope = Scope | 'any' | 'public' | 'admin';

/** Resources whose form is looked up to decide whether a form-limited key may reach them. */
export type FormResource = 'response' | 'integration' | 'delivery' | 'export' | 'report';

/**
 * Which form a route reaches, for keys limited to forms:
 * - `param`: the `:id` is a form's id;
 * - a `FormResource`: the `:id` is that resource's id, and its form is looked up;
 * - `body` / `query`: the `form_id` of the body / query string; none means every form;
 * - `list`: a listing the handler filters itself (`formLimitOf`);
 * - `workspace`: a change that reaches every form (creating a form): refused;
 * - `none`: no form's data (the workspace, its keys, the audit log, catalogues).
 */
export type RouteForm = 'param' | FormResource | 'body' | 'query' | 'list' | 'workspace' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs of a key; checked by the auth hooks (see `guardRoute`). */
    scope?: RouteScope;
    /** Which form the route reaches, for keys limited to forms. */
    form?: RouteForm;
  }
}

/**
 * The route option that declares what a route needs of a key:
 * `config: scoped('forms:read', 'param')`. Every route under /api/v2 declares one
 * (test/integration/scopes-routes.test.ts walks them all).
 */
export function scoped(scope: RouteScope, form: RouteForm): { scope: RouteScope; form: RouteForm } {
  return { scope, form };
}

/**
 * The form a resource belongs to: its id, null when it belongs to none (a workspace-wide
 * integration and its deliveries), undefined when there is no such resource in the
 * workspace (the handler answers its own 404 then).
 */
export type FormOf = (
  kind: FormResource,
  workspaceId: string,
  id: string,
) => Promise<string | null | undefined>;

type WorkspacePrincipal = Extract<Principal, { kind: 'workspace' }>;

/** 403 naming the scope the key lacks, in the message and as a `scope` detail. */
export function missingScope(scope: string): AppError {
  return new AppError('forbidden', `this key lacks the scope ${scope}`, [
    { field: 'scope', message: scope },
  ]);
}

/** 403 for a key limited to forms on a route that would reach every form. */
const everyForm = () =>
  new AppError('forbidden', 'this key is limited to forms: it cannot reach every form', [
    { field: 'form_ids', message: 'limited' },
  ]);

/**
 * Checks a workspace key against the route's declared scope and form. Fails closed: a route
 * that declares no scope is refused to keys with scopes, one that declares no form to keys
 * limited to forms. A form the key may not reach answers 404, as if it did not exist.
 */
export async function guardRoute(
  request: FastifyRequest,
  principal: WorkspacePrincipal,
  formOf: FormOf | undefined,
): Promise<void> {
  const { scope, form } = request.routeOptions.config;
  if (principal.scopes !== null && scope !== 'any' && scope !== 'public') {
    const needed = scope ?? 'an undeclared scope';
    if (scope === undefined || scope === 'admin' || !principal.scopes.includes(scope))
      throw missingScope(needed);
  }
  if (principal.formIds === null) return;
  if (form === undefined) throw everyForm();
  const formId = await formOfRequest(request, principal.workspaceId, form, formOf);
  if (formId === undefined) return;
  if (formId === null || !mayReachForm(principal, formId)) throw notFound(formResourceName(form));
}

const formResourceName = (form: RouteForm): string =>
  form === 'param' || form === 'body' || form === 'query' ? 'form' : form;

/**
 * The form the request reaches: an id, null (a resource of no form), undefined when there is
 * nothing to check (no such resource, a listing, no form at all). Throws for routes that
 * reach every form.
 */
async function formOfRequest(
  request: FastifyRequest,
  workspaceId: string,
  form: RouteForm,
  formOf: FormOf | undefined,
): Promise<string | null | undefined> {
  switch (form) {
    case 'none':
    case 'list':
      return undefined;
    case 'workspace':
      throw everyForm();
    case 'param':
      return idParam(request) ?? undefined;
    case 'body':
    case 'query': {
      const source = form === 'body' ? request.body : request.query;
      const value = (source as { form_id?: unknown } | undefined)?.form_id;
      if (value === undefined || value === null) throw everyForm();
      return typeof value === 'string' ? value : undefined;
    }
    default: {
      const id = idParam(request);
      if (!id || !isUuid(id)) return undefined;
      if (!formOf) throw new Error(`no form lookup for ${form} routes`);
      return formOf(form, workspaceId, id);
    }
  }
}

const idParam = (request: FastifyRequest): string | undefined =>
  (request.params as { id?: string } | undefined)?.id;

/**
 * For a `list` route: the forms the listing must keep to (null: every form), 404 when it
 * is narrowed to a form (`form_id`) the key may not reach. A key limited to forms never
 * sees workspace-wide integrations: they reach every form.
 */
export function listingForms(request: FastifyRequest, formId?: string): readonly string[] | null {
  const principal = request.principal;
  if (principal?.kind !== 'workspace' || principal.formIds === null) return null;
  if (formId !== undefined && !mayReachForm(principal, formId)) throw notFound('form');
  return principal.formIds;
}
