import { describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/common/index.ts';
import { escalationOf, limitsOf, normaliseScopes } from '../../src/workspaces/key-limits.ts';

const A = '0190a000-0000-7000-8000-00000000000a';
const B = '0190a000-0000-7000-8000-00000000000b';

describe('escalationOf: no key gives more than it has', () => {
  it('lets an unlimited caller give anything', () => {
    const all = { scopes: null, formIds: null };
    expect(escalationOf(all, all)).toBeUndefined();
    expect(escalationOf(all, { scopes: ['exports'], formIds: [A] })).toBeUndefined();
  });

  it('names the first scope the caller lacks; omitted scopes ask for all', () => {
    const caller = { scopes: ['forms:read' as const, 'keys:write' as const], formIds: null };
    expect(escalationOf(caller, { scopes: ['forms:read'], formIds: null })).toBeUndefined();
    expect(escalationOf(caller, { scopes: ['exports'], formIds: null })?.details).toEqual([
      { field: 'scope', message: 'exports' },
    ]);
    const all = escalationOf(caller, { scopes: null, formIds: null });
    expect(all?.code).toBe('forbidden');
    expect(all?.details).toEqual([{ field: 'scope', message: SCOPES[1] }]);
  });

  it('keeps a form-limited caller to its forms, whatever the case of the ids', () => {
    const caller = { scopes: null, formIds: [A] };
    expect(escalationOf(caller, { scopes: null, formIds: [A.toUpperCase()] })).toBeUndefined();
    expect(escalationOf(caller, { scopes: null, formIds: [A, B] })?.details).toEqual([
      { field: 'form_ids', message: `form ${B}` },
    ]);
    expect(escalationOf(caller, { scopes: null, formIds: null })?.details).toEqual([
      { field: 'form_ids', message: 'every form' },
    ]);
  });
});

describe('stored limits', () => {
  it('reads NULL as all and keeps scopes in their canonical order, without repeats', () => {
    expect(limitsOf({})).toEqual({ scopes: null, formIds: null });
    expect(limitsOf({ scopes: null, form_ids: null })).toEqual({ scopes: null, formIds: null });
    expect(normaliseScopes(['exports', 'forms:read', 'exports', 'made:up'])).toEqual([
      'forms:read',
      'exports',
    ]);
  });
});
