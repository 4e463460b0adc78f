/** What a workspace key may do (DESIGN.md section 4b); each route needs one of them. */
export const SCOPES = [
  'forms:read',
  'forms:write',
  'responses:read',
  'responses:write',
  'integrations:read',
  'integrations:write',
  'analytics:read',
  'exports',
  'keys:write',
] as const;

export type Scope = (typeof SCOPES)[number];

/**
 * Who a bearer key says the caller is. A leaf type: workspaces answer it and the HTTP auth
 * hooks read it, and neither has to import the other for it. `scopes` and `formIds` are
 * null when the key is not limited that way (every key made before scopes existed).
 */
export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'workspace';
      workspaceId: string;
      keyId: string;
      scopes: readonly Scope[] | null;
      formIds: readonly string[] | null;
    };

/** Whether a principal may reach a form's data (always, unless its key is limited to forms). */
export function mayReachForm(principal: Principal | undefined, formId: string): boolean {
  if (principal?.kind !== 'workspace' || principal.formIds === null) return true;
  return principal.formIds.includes(formId.toLowerCase());
}

/** The forms a request's key is limited to, or null (all of them; the admin or no key). */
export function formLimitOf(principal: Principal | undefined): readonly string[] | null {
  return principal?.kind === 'workspace' ? principal.formIds : null;
}
