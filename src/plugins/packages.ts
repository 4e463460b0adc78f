import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** An installed npm package to load as a plugin. */
export interface PluginPackage {
  name: string;
  /** Its folder (symlinks resolved). */
  folder: string;
  /** The module the hub imports: what `import('<name>')` would load. */
  entry: string;
}

/** What package discovery found, and the PLUGINS names it could not find or read. */
export interface PackageDiscovery {
  packages: PluginPackage[];
  problems: { name: string; problem: string }[];
}

/** `formhub-connector-x` or `@scope/formhub-connector-x`: found without being named in PLUGINS. */
export const CONNECTOR_PACKAGE = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?formhub-connector-[a-z0-9-._~]+$/;

/**
 * The node_modules directories searched, in order: the working directory's (the project the
 * hub runs in, where `npm install formhub-connector-x` puts it), then the hub's own (its
 * installation folder's). The same directory twice (the hub run from its own folder) is
 * searched once.
 */
export function pluginSearchRoots(hubRoot: string, cwd: string = process.cwd()): string[] {
  const roots: string[] = [];
  const seen = new Set<string>();
  for (const base of [cwd, hubRoot]) {
    const root = resolve(base, 'node_modules');
    if (!existsSync(root)) continue;
    const real = realpathSync(root);
    if (seen.has(real)) continue;
    seen.add(real);
    roots.push(root);
  }
  return roots;
}

/**
 * Every package named `formhub-connector-*` or `@scope/formhub-connector-*` installed in
 * `roots`, then each of `named` (PLUGINS) not already found, looked up in the same roots.
 * The first root that has a name wins. A package without an entry, or a named one that is
 * not installed, is a problem to log, never an exception.
 */
export function findPluginPackages(
  roots: readonly string[],
  named: readonly string[],
): PackageDiscovery {
  const found = new Map<string, PluginPackage>();
  const problems: PackageDiscovery['problems'] = [];
  const add = (name: string, folder: string) => {
    if (found.has(name)) return;
    try {
      found.set(name, { name, folder: realpathSync(folder), entry: packageEntry(folder) });
    } catch (error) {
      problems.push({ name, problem: (error as Error).message });
    }
  };
  for (const root of roots) {
    for (const name of connectorPackagesIn(root)) add(name, join(root, name));
  }
  for (const name of named) {
    if (found.has(name)) continue;
    const root = roots.find((r) => existsSync(join(r, name, 'package.json')));
    if (root) add(name, join(root, name));
    else
      problems.push({
        name,
        problem: `not installed in ${roots.join(' or ') || 'any node_modules'}`,
      });
  }
  return { packages: [...found.values()], problems };
}

/** The connector package names in one node_modules, sorted. */
function connectorPackagesIn(root: string): string[] {
  const names: string[] = [];
  for (const item of safeList(root)) {
    if (item.startsWith('@')) {
      for (const inner of safeList(join(root, item))) names.push(`${item}/${inner}`);
    } else names.push(item);
  }
  return names.filter((name) => CONNECTOR_PACKAGE.test(name)).sort();
}

function safeList(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

/**
 * The file `import('<name>')` loads, from package.json: `exports` (its `.` entry, through the
 * `import`, `node` and `default` conditions), else `main`, else `index.js`.
 */
export function packageEntry(folder: string): string {
  const manifestPath = join(folder, 'package.json');
  if (!existsSync(manifestPath)) throw new Error('no package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: unknown;
    main?: unknown;
  };
  const target =
    manifest.exports !== undefined
      ? exportTarget(manifest.exports)
      : typeof manifest.main === 'string'
        ? manifest.main
        : 'index.js';
  if (!target) throw new Error('package.json "exports" has no "." entry for import');
  const entry = resolve(folder, target);
  if (!entry.startsWith(resolve(folder))) throw new Error('the entry is outside the package');
  if (!existsSync(entry)) throw new Error(`its entry ${target} does not exist`);
  return entry;
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return undefined;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.some((key) => key.startsWith('.'))) return exportTarget(map['.']);
  for (const condition of ['import', 'node', 'default']) {
    if (condition in map) {
      const target = exportTarget(map[condition]);
      if (target) return target;
    }
  }
  return undefined;
}
