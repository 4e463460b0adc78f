import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CONNECTORS_DIR, HUB_ROOT } from '../plugins/index.ts';
import {
  manifestSource,
  pluginNames,
  pluginSource,
  readmeSource,
  testSource,
} from './scaffold-templates.ts';
import { configure, StartupError } from './startup.ts';

/** What `formhub connector new` accepts as a name (also the plugin's id and folder). */
export const CONNECTOR_NAME = /^[a-z][a-z0-9-]{1,40}$/;

/** What the scaffolder made. */
export interface Scaffolded {
  folder: string;
  files: string[];
}

/** The version of the hub's own @formhub/sdk: the scaffold asks for its major line. */
export function sdkVersion(): string {
  const manifest = JSON.parse(readFileSync(join(HUB_ROOT, 'sdk', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * Writes a stand-alone connector package `<parentDir>/<name>/`: `package.json`
 * (`formhub-connector-<name>`, an ES module package with @formhub/sdk as its peer and dev
 * dependency, `npm test` = `node --test`, ready for `npm pack`), `index.js` (a FormPlugin,
 * plain JavaScript with JSDoc types, that POSTs each response to a configured URL),
 * `test/<name>.test.js` (it against a local server through the SDK harness, then the
 * connector contract) and `README.md`. It works outside this repository once the SDK is
 * installed into it. Refuses a bad name, a name a built-in connector has, and a folder that
 * already exists: nothing is ever overwritten.
 *
 * @example scaffoldConnector('my-thing', './plugins'); // { folder: '/abs/plugins/my-thing', files: [...] }
 */
export function scaffoldConnector(name: string, parentDir: string): Scaffolded {
  if (!CONNECTOR_NAME.test(name)) {
    throw new StartupError(
      `connector name "${name}" must match ${CONNECTOR_NAME} (lower case, digits and -)`,
    );
  }
  if (existsSync(join(CONNECTORS_DIR, name))) {
    throw new StartupError(`"${name}" is a built-in connector; choose another name`);
  }
  const folder = resolve(parentDir, name);
  mkdirSync(resolve(parentDir), { recursive: true });
  try {
    mkdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new StartupError(`${folder} already exists; nothing was written`);
    }
    throw error;
  }
  const names = pluginNames(name, sdkVersion());
  const files = [
    { path: join(folder, 'package.json'), text: manifestSource(names) },
    { path: join(folder, 'index.js'), text: pluginSource(names) },
    { path: join(folder, 'test', `${name}.test.js`), text: testSource(names) },
    { path: join(folder, 'README.md'), text: readmeSource(names) },
  ];
  try {
    mkdirSync(join(folder, 'test'));
    for (const file of files) writeFileSync(file.path, file.text, { flag: 'wx' });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return { folder, files: files.map((file) => file.path) };
}

/**
 * `formhub connector new <name> [--dir <folder>]`: scaffolds a connector package in
 * `<folder>/<name>/` (default PLUGINS_DIR) and says what it made and what to do next.
 * Needs only the configuration: no Redis, no database.
 */
export function runConnectorNew(name: string | undefined, dir?: string): void {
  if (!name) throw new StartupError('usage: formhub connector new <name> [--dir <folder>]');
  const parent = dir ?? configure().pluginsDir;
  const { folder, files } = scaffoldConnector(name, parent);
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
  };
  console.log(`created ${shown(folder)}/`);
  for (const file of files) console.log(`  ${shown(file)}`);
  console.log(`
next:
  cd ${shown(folder)}
  npm install --save-dev @formhub/sdk     or the SDK tarball: npm install --save-dev <path>/formhub-sdk-<version>.tgz
  npm test                                node --test: the SDK harness and the connector contract
  npm pack                                formhub-connector-${name}-0.1.0.tgz
  npm install <that tarball>              in the folder the hub runs from; restart formhub
  GET /api/v2/connectors                  lists "${name}" (source "package") once loaded`);
}
