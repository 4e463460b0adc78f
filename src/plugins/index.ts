export { loadPlugins, loadPlugin, PluginRegistry, type LoadedPlugin } from './registry.ts';
export { loadAllPlugins, CONNECTORS_DIR } from './builtin.ts';
