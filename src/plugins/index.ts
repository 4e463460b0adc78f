export {
  loadPlugins,
  loadPlugin,
  loadCandidates,
  PluginRegistry,
  type LoadedPlugin,
  type PluginCandidate,
  type PluginOrigin,
} from './registry.ts';
export { loadAllPlugins, CONNECTORS_DIR, HUB_ROOT } from './builtin.ts';
export {
  findPluginPackages,
  pluginSearchRoots,
  packageEntry,
  CONNECTOR_PACKAGE,
  type PluginPackage,
} from './packages.ts';
export { majorOf, versionChange } from './versions.ts';
