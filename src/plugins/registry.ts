import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Logger } from 'pino';
import { isFormPlugin, type FormPlugin, type PluginMetadata } from '@formhub/sdk';

/** A loaded plugin with its compiled config validator. */
export interface LoadedPlugin {
  plugin: FormPlugin;
  metadata: PluginMetadata;
  validateConfig: ValidateFunction;
  /** Config properties marked `writeOnly`: encrypted at rest like the rest, and never returned. */
  secretKeys: string[];
  /** The file it was loaded from. */
  source: string;
  /** Where it was found: shipped with the hub, a folder of PLUGINS_DIR, or an installed npm package. */
  origin: PluginOrigin;
  /** The npm package it came from (origin `package`), with that package's version. */
  package?: { name: string; version: string };
}

export type PluginOrigin = 'builtin' | 'plugins_dir' | 'package';

/** A module to load as a plugin, and where it was found. */
export interface PluginCandidate {
  entry: string;
  origin: PluginOrigin;
  package?: { name: string; version: string };
}

/** The plugins the hub runs, by id. */
export class PluginRegistry {
  private readonly plugins = new Map<string, LoadedPlugin>();

  get(id: string): LoadedPlugin | undefined {
    return this.plugins.get(id);
  }

  list(): LoadedPlugin[] {
    return [...this.plugins.values()].sort((a, b) => a.metadata.id.localeCompare(b.metadata.id));
  }

  /** Adds a plugin; false when one with the same id is already registered. */
  add(plugin: LoadedPlugin): boolean {
    if (this.plugins.has(plugin.metadata.id)) return false;
    this.plugins.set(plugin.metadata.id, plugin);
    return true;
  }
}

const ENTRY_FILES = ['index.ts', 'index.js', 'index.mjs'];
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

/**
 * Loads every plugin folder under each directory (`connectors/`, then PLUGINS_DIR). A
 * folder's entry is its package.json `main` or `index.{ts,js,mjs}`; it default-exports a
 * FormPlugin instance or class. A plugin that fails to load, has bad metadata or an
 * invalid config schema is logged and skipped: never fatal.
 */
export async function loadPlugins(
  directories: readonly string[],
  logger: Logger,
  origin: PluginOrigin = 'plugins_dir',
  registry: PluginRegistry = new PluginRegistry(),
): Promise<PluginRegistry> {
  for (const directory of directories) {
    const root = resolve(directory);
    if (!existsSync(root)) continue;
    const candidates: PluginCandidate[] = [];
    for (const name of readdirSync(root).sort()) {
      const folder = join(root, name);
      if (!statSync(folder).isDirectory()) continue;
      const entry = entryOf(folder);
      if (entry) candidates.push({ entry, origin });
    }
    await loadCandidates(registry, candidates, logger);
  }
  return registry;
}

/** Loads each candidate into the registry; a failure or a duplicate id is logged and skipped. */
export async function loadCandidates(
  registry: PluginRegistry,
  candidates: readonly PluginCandidate[],
  logger: Logger,
): Promise<void> {
  for (const candidate of candidates) {
    const { entry } = candidate;
    const where = { source: entry, package: candidate.package?.name };
    try {
      const loaded = { ...(await loadPlugin(entry)), origin: candidate.origin };
      if (candidate.package) loaded.package = candidate.package;
      if (!registry.add(loaded))
        logger.warn({ plugin: loaded.metadata.id, ...where }, 'duplicate plugin id; skipped');
      else
        logger.debug(
          { plugin: loaded.metadata.id, version: loaded.metadata.version, ...where },
          'plugin loaded',
        );
    } catch (error) {
      logger.error({ ...where, err: (error as Error).message }, 'plugin failed to load; skipped');
    }
  }
}

function entryOf(folder: string): string | undefined {
  const manifest = join(folder, 'package.json');
  if (existsSync(manifest)) {
    const main = (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: string }).main;
    if (main && existsSync(join(folder, main))) return join(folder, main);
  }
  return ENTRY_FILES.map((file) => join(folder, file)).find((file) => existsSync(file));
}

/** Imports one plugin module and checks it. */
export async function loadPlugin(entry: string): Promise<LoadedPlugin> {
  const module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  let candidate = module.default;
  if (typeof candidate === 'function') candidate = new (candidate as new () => unknown)();
  if (!isFormPlugin(candidate)) {
    throw new Error(
      'the default export is not a FormPlugin (metadata id, name, version and configSchema are needed)',
    );
  }
  const metadata = candidate.metadata;
  let validateConfig: ValidateFunction;
  try {
    validateConfig = ajv.compile(metadata.configSchema);
  } catch (error) {
    throw new Error(`configSchema is not a valid JSON Schema: ${(error as Error).message}`);
  }
  return {
    plugin: candidate,
    metadata,
    validateConfig,
    secretKeys: secretKeysOf(metadata.configSchema),
    source: entry,
    origin: 'plugins_dir',
  };
}

function secretKeysOf(schema: Record<string, unknown>): string[] {
  const properties = (schema.properties ?? {}) as Record<string, { writeOnly?: boolean }>;
  return Object.entries(properties)
    .filter(([, property]) => property?.writeOnly === true)
    .map(([key]) => key);
}
