// A module resolution hook: in this repository, `@formhub/sdk` resolves to its TypeScript
// sources (the "formhub-source" export condition, sdk/package.json) instead of its build
// in sdk/dist, so the hub never runs a stale or missing build of its own SDK. A packed copy
// of the SDK (installed with a connector package) ships no sources: it resolves as anywhere
// else, to its build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  // A copy: the hook chain merges what a nextResolve call is given into the shared context.
  const conditions = [...(context.conditions ?? [])];
  if (!specifier.startsWith('@formhub/sdk') || conditions.includes('formhub-source')) {
    return nextResolve(specifier);
  }
  let resolved;
  try {
    resolved = await nextResolve(specifier, {
      ...context,
      conditions: [...conditions, 'formhub-source'],
    });
  } catch {
    // No sources in this copy (the default resolver checks the file exists): its build.
  }
  if (resolved?.url.startsWith('file:') && existsSync(fileURLToPath(resolved.url))) return resolved;
  return nextResolve(specifier, { ...context, conditions });
}
