/**
 * The `formhub` commands. The executable (bin/formhub.js) loads `runtime-flags.ts` and then
 * `main.ts`, which parses the arguments; these are what `main.ts` runs.
 */
export { run, runKeysCreate, runMigrate } from './commands.ts';
export { StartupError } from './startup.ts';
