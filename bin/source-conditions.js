// A module resolution hook: in this repository, `@formhub/sdk` resolves to its TypeScript
// sources (the "formhub-source" export condition, sdk/package.json) instead of its build
// in sdk/dist, so the hub never runs a stale or missing build of its own SDK.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions ?? [];
  if (conditions.includes('formhub-source')) return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, conditions: [...conditions, 'formhub-source'] });
}
