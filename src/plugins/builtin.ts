import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import { loadPlugins, type PluginRegistry } from './registry.ts';

/** The built-in connectors shipped with the hub. */
export const CONNECTORS_DIR = fileURLToPath(new URL('../../connectors', import.meta.url));

/** Loads the built-in connectors, then the plugins of PLUGINS_DIR. */
export function loadAllPlugins(config: Config, logger: Logger): Promise<PluginRegistry> {
  return loadPlugins([CONNECTORS_DIR, config.pluginsDir], logger);
}
