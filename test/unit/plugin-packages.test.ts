import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import {
  findPluginPackages,
  loadAllPlugins,
  majorOf,
  packageEntry,
  pluginSearchRoots,
  versionChange,
} from '../../src/plugins/index.ts';

/** A package in `root/name` with `manifest`, and `files` (path -> text) in it. */
function writePackage(root: string, name: string, manifest: object, files: Record<string, string>) {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({ name, type: 'module', ...manifest }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(folder, path, '..'), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
}

const plugin = (id: string, version = '1.0.0') =>
  `export default { metadata: { id: '${id}', name: '${id}', version: '${version}', configSchema: { type: 'object' } } };\n`;

describe('plugin packages: discovery in node_modules', () => {
  let dir: string;
  let cwd: string;
  let modules: string;
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-packages-'));
    cwd = join(dir, 'site');
    modules = join(cwd, 'node_modules');
    writePackage(
      modules,
      'formhub-connector-alpha',
      { version: '1.2.3', exports: './lib/main.js' },
      {
        'lib/main.js': plugin('alpha'),
      },
    );
    writePackage(
      modules,
      '@acme/formhub-connector-beta',
      {
        version: '2.0.0',
        exports: { '.': { types: './x.d.ts', import: './esm.js', require: './cjs.cjs' } },
      },
      { 'esm.js': plugin('beta', '2.0.0') },
    );
    writePackage(
      modules,
      'named-by-env',
      { version: '0.3.0', main: 'index.js' },
      { 'index.js': plugin('gamma') },
    );
    writePackage(modules, 'not-a-connector', { main: 'index.js' }, { 'index.js': plugin('delta') });
    writePackage(
      modules,
      'formhub-connector-broken',
      { main: 'index.js' },
      {
        'index.js': 'export default { metadata: { id: "Bad Id" } };\n',
      },
    );
    writePackage(modules, 'formhub-connector-missing-entry', { main: 'nope.js' }, {});
    writePackage(
      modules,
      'formhub-connector-throws',
      {},
      { 'index.js': 'throw new Error("boom");\n' },
    );
    writePackage(modules, 'formhub-connector-webhook', {}, { 'index.js': plugin('webhook') });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds formhub-connector-* and @scope/formhub-connector-* packages, and the PLUGINS names', () => {
    const { packages, problems } = findPluginPackages([modules], ['named-by-env', 'not-installed']);
    // Each directory's connector packages in name order, then the PLUGINS names.
    expect(packages.map((p) => p.name)).toEqual([
      '@acme/formhub-connector-beta',
      'formhub-connector-alpha',
      'formhub-connector-broken',
      'formhub-connector-throws',
      'formhub-connector-webhook',
      'named-by-env',
    ]);
    expect(packages.find((p) => p.name === 'formhub-connector-alpha')!.entry).toBe(
      join(modules, 'formhub-connector-alpha', 'lib', 'main.js'),
    );
    expect(packages.find((p) => p.name === '@acme/formhub-connector-beta')!.entry).toBe(
      join(modules, '@acme', 'formhub-connector-beta', 'esm.js'),
    );
    expect(problems).toEqual([
      { name: 'formhub-connector-missing-entry', problem: 'its entry nope.js does not exist' },
      { name: 'not-installed', problem: `not installed in ${modules}` },
    ]);
  });

  it('refuses an entry outside its package', () => {
    writePackage(
      join(dir, 'other'),
      'escape',
      { main: '../../site/node_modules/named-by-env/index.js' },
      {},
    );
    expect(() => packageEntry(join(dir, 'other', 'escape'))).toThrow(
      'the entry is outside the package',
    );
  });

  it('searches the working directory, then the hub, each directory once', () => {
    expect(pluginSearchRoots(cwd, cwd)).toEqual([modules]);
    symlinkSync(modules, join(dir, 'node_modules'));
    expect(pluginSearchRoots(dir, cwd)).toEqual([modules]);
    expect(pluginSearchRoots(join(dir, 'nowhere'), cwd)).toEqual([modules]);
  });

  it('loads them after the built-ins: a broken one is logged and skipped, a taken id too', async () => {
    const config = loadConfig({ PLUGINS_DIR: join(dir, 'no-plugins'), PLUGINS: 'named-by-env' });
    const registry = await loadAllPlugins(config, logger, cwd);
    const byId = Object.fromEntries(registry.list().map((p) => [p.metadata.id, p]));
    expect(byId.alpha).toMatchObject({
      origin: 'package',
      package: { name: 'formhub-connector-alpha', version: '1.2.3' },
    });
    expect(byId.beta!.package).toEqual({ name: '@acme/formhub-connector-beta', version: '2.0.0' });
    expect(byId.gamma).toMatchObject({ origin: 'package', package: { name: 'named-by-env' } });
    expect(byId.delta).toBeUndefined();
    expect(byId.webhook!.origin).toBe('builtin');
    const failed = lines.filter((l) => String(l.msg).includes('failed to load'));
    expect(failed.map((l) => l.package).sort()).toEqual([
      'formhub-connector-broken',
      'formhub-connector-missing-entry',
      'formhub-connector-throws',
    ]);
    expect(
      lines.some((l) => l.msg === 'duplicate plugin id; skipped' && l.plugin === 'webhook'),
    ).toBe(true);
  });
});

describe('PLUGINS and versions', () => {
  it('PLUGINS is a comma-separated list of package names, checked at start', () => {
    expect(loadConfig({}).pluginPackages).toEqual([]);
    expect(loadConfig({ PLUGINS: ' a-pkg , @acme/b.c ,, a-pkg' }).pluginPackages).toEqual([
      'a-pkg',
      '@acme/b.c',
    ]);
    for (const bad of ['../evil', 'Upper', '@scope', '/abs/path', 'a b']) {
      expect(() => loadConfig({ PLUGINS: bad }), bad).toThrow(ConfigError);
    }
  });

  it('reads major lines as npm caret ranges do', () => {
    expect(majorOf('2.4.1')).toBe('2');
    expect(majorOf('0.3.1')).toBe('0.3');
    expect(versionChange('1.0.0', '1.9.0')).toBe('compatible');
    expect(versionChange('0.1.0', '0.2.0')).toBe('major');
    expect(versionChange('1.9.0', '2.0.0')).toBe('major');
    expect(versionChange('2.0.0', '2.0.0')).toBe('same');
    expect(versionChange('nightly', 'nightly-2')).toBe('major');
  });
});
