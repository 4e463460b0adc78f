import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import { findPluginPackages, pluginSearchRoots } from './packages.ts';
import { loadCandidates, loadPlugins, PluginRegistry, type PluginCandidate } from './registry.ts';

/** The built-in connectors shipped with the hub. */
export const CONNECTORS_DIR = fileURLToPath(new URL('../../connectors', import.meta.url));
/** The hub's installation folder (its own node_modules is searched for plugin packages). */
export const HUB_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Loads the built-in connectors, then the plugins of PLUGINS_DIR, then the installed npm
 * packages (`formhub-connector-*`, `@scope/formhub-connector-*` and those PLUGINS names) of
 * the working directory's node_modules and the hub's own. The first plugin with an id wins.
 */
export async function loadAllPlugins(
  config: Config,
  logger: Logger,
  cwd: string = process.cwd(),
): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  await loadPlugins([CONNECTORS_DIR], logger, 'builtin', registry);
  await loadPlugins([config.pluginsDir], logger, 'plugins_dir', registry);
  const roots = pluginSearchRoots(HUB_ROOT, cwd);
  const { packages, problems } = findPluginPackages(roots, config.pluginPackages);
  for (const { name, problem } of problems) {
    logger.error({ package: name, err: problem }, 'plugin package failed to load; skipped');
  }
  const candidates: PluginCandidate[] = packages.map((found) => ({
    entry: found.entry,
    origin: 'package',
    package: { name: found.name, version: packageVersion(found.folder) },
  }));
  await loadCandidates(registry, candidates, logger);
  return registry;
}

function packageVersion(folder: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : '';
  } catch {
    return '';
  }
}
