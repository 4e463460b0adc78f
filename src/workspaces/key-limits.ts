import { SCOPES, type Scope } from '../common/index.ts';
import { AppError } from '../errors/index.ts';

/** What a key may do and reach; null is "all" (every scope, every form). */
export interface KeyLimits {
  scopes: readonly Scope[] | null;
  formIds: readonly string[] | null;
}

/** Limits of no key at all: every scope, every form (the admin key, the CLI). */
export const UNLIMITED: KeyLimits = { scopes: null, formIds: null };

/**
 * Why `caller` may not hand out (or revoke) a key of `wanted`, or undefined when `wanted`
 * gives nothing beyond what the caller has: no scope it lacks, no form it cannot reach.
 * A 403 that names the first missing scope, or says the forms reach further.
 */
export function escalationOf(caller: KeyLimits, wanted: KeyLimits): AppError | undefined {
  if (caller.scopes !== null) {
    const missing = (wanted.scopes ?? SCOPES).find((s) => !caller.scopes!.includes(s));
    if (missing)
      return new AppError(
        'forbidden',
        `a key cannot give more than it has: this key lacks the scope ${missing}`,
        [{ field: 'scope', message: missing }],
      );
  }
  if (caller.formIds !== null) {
    const outside =
      wanted.formIds === null
        ? 'every form'
        : wanted.formIds.find((id) => !caller.formIds!.includes(id.toLowerCase()));
    if (outside)
      return new AppError(
        'forbidden',
        'a key cannot give more than it has: this key is limited to forms',
        [{ field: 'form_ids', message: outside === 'every form' ? outside : `form ${outside}` }],
      );
  }
  return undefined;
}

/** Scopes as stored: null (all), or the listed ones without repeats, in the canonical order. */
export function normaliseScopes(scopes: readonly string[] | null | undefined): Scope[] | null {
  if (scopes === undefined || scopes === null) return null;
  return SCOPES.filter((s) => scopes.includes(s));
}

/** A stored row's limits (unknown scope names, from a newer release, are dropped). */
export function limitsOf(row: { scopes?: string[] | null; form_ids?: string[] | null }): KeyLimits {
  return { scopes: normaliseScopes(row.scopes), formIds: row.form_ids ?? null };
}
