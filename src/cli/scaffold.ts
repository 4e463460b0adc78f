import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CONNECTORS_DIR } from '../plugins/index.ts';
import {
  manifestSource,
  pluginNames,
  pluginSource,
  testSource,
  vitestConfigSource,
} from './scaffold-templates.ts';
import { configure, StartupError } from './startup.ts';

/** What `formhub connector new` accepts as a name (also the plugin's id and folder). */
export const CONNECTOR_NAME = /^[a-z][a-z0-9-]{1,40}$/;

/** What the scaffolder made. */
export interface Scaffolded {
  folder: string;
  files: string[];
}

/**
 * Writes a new plugin folder `<pluginsDir>/<name>/` with `package.json` (an ES module
 * package), `index.ts` (a FormPlugin that POSTs each response to a configured URL) and
 * `<name>.test.ts` (it against a local server, then the shared connector contract), which
 * passes as written, and the `vitest.config.ts` that runs it. Refuses a bad name, a name a
 * built-in connector has, and a folder that already exists: nothing is ever overwritten.
 *
 * @example scaffoldConnector('my-thing', './plugins'); // { folder: '/abs/plugins/my-thing', files: [...] }
 */
export function scaffoldConnector(name: string, pluginsDir: string): Scaffolded {
  if (!CONNECTOR_NAME.test(name)) {
    throw new StartupError(
      `connector name "${name}" must match ${CONNECTOR_NAME} (lower case, digits and -)`,
    );
  }
  if (existsSync(join(CONNECTORS_DIR, name))) {
    throw new StartupError(`"${name}" is a built-in connector; choose another name`);
  }
  const folder = resolve(pluginsDir, name);
  mkdirSync(resolve(pluginsDir), { recursive: true });
  try {
    mkdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new StartupError(`${folder} already exists; nothing was written`);
    }
    throw error;
  }
  const names = pluginNames(name);
  const files = [
    { path: join(folder, 'package.json'), text: manifestSource(names) },
    { path: join(folder, 'index.ts'), text: pluginSource(names) },
    { path: join(folder, `${name}.test.ts`), text: testSource(names) },
    { path: join(folder, 'vitest.config.ts'), text: vitestConfigSource() },
  ];
  try {
    for (const file of files) writeFileSync(file.path, file.text, { flag: 'wx' });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return { folder, files: files.map((file) => file.path) };
}

/**
 * `formhub connector new <name>`: scaffolds a plugin in PLUGINS_DIR and says what it made
 * and what to do next. Needs only the configuration: no Redis, no database.
 */
export function runConnectorNew(name: string | undefined): void {
  if (!name) throw new StartupError('usage: formhub connector new <name>');
  const config = configure();
  const { folder, files } = scaffoldConnector(name, config.pluginsDir);
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  console.log(`created ${shown(folder)}/`);
  for (const file of files) console.log(`  ${shown(file)}`);
  console.log(`
next:
  npx vitest run --root ${shown(folder)}     run its test (the shared connector contract included)
  restart formhub                             it is loaded from PLUGINS_DIR at start
  GET /api/v2/connectors                      lists "${name}" once loaded`);
}
