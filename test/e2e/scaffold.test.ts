import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlugin, loadPlugins } from '../../src/plugins/index.ts';
import { freePort, runCli, type Finished } from '../support/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs the package's `node --test` as its author would, here against the hub's own SDK
 * sources (the formhub-source condition, through tsx); test/e2e/connector-package.test.ts
 * runs it against the packed SDK.
 */
function runNodeTest(folder: string): Promise<Finished> {
  // A nested node must not think it is one of this run's workers.
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST'))),
    NO_COLOR: '1',
  };
  return new Promise((resolve) => {
    const args = ['--conditions=formhub-source', '--import', 'tsx', '--test'];
    const child = spawn(process.execPath, args, { cwd: folder, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('formhub connector new', () => {
  let dir: string;
  let pluginsDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-scaffold-'));
    pluginsDir = join(dir, 'plugins');
    // A PLUGINS_DIR outside the hub's folder resolves @formhub/sdk the way an installed hub
    // would provide it: through a node_modules on the way up.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    // Unreachable Redis and PostgreSQL: the scaffolder needs only the configuration.
    const port = await freePort();
    env = {
      PLUGINS_DIR: pluginsDir,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`,
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the plugin folder and says what it made, with neither Redis nor a database', async () => {
    const result = await runCli(['connector', 'new', 'my-thing'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const folder = join(pluginsDir, 'my-thing');
    expect(readdirSync(folder).sort()).toEqual(['README.md', 'index.js', 'package.json', 'test']);
    expect(readdirSync(join(folder, 'test'))).toEqual(['my-thing.test.js']);
    for (const file of [
      'index.js',
      join('test', 'my-thing.test.js'),
      'package.json',
      'README.md',
    ]) {
      expect(result.stdout).toContain(join('my-thing', file));
    }
    expect(result.stdout).toContain('npm test');
    expect(result.stdout).toContain('npm pack');
  }, 60_000);

  it('makes a plugin whose generated test passes as written with node --test', async () => {
    const result = await runNodeTest(join(pluginsDir, 'my-thing'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/# pass 9\b/);
    expect(result.stdout).toMatch(/# fail 0\b/);
  }, 120_000);

  it('makes a stand-alone package: its own name, the SDK as peer and dev dependency, npm pack-ready', () => {
    const manifest = JSON.parse(readFileSync(join(pluginsDir, 'my-thing', 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'formhub-connector-my-thing',
      version: '0.1.0',
      type: 'module',
      exports: { '.': './index.js' },
      files: ['index.js', 'README.md'],
      scripts: { test: 'node --test' },
      peerDependencies: { '@formhub/sdk': '^0.1.0' },
      devDependencies: { '@formhub/sdk': '^0.1.0' },
    });
    expect(manifest.private).toBeUndefined();
  });

  it('writes into --dir instead of PLUGINS_DIR', async () => {
    const result = await runCli(['connector', 'new', 'elsewhere', '--dir', join(dir, 'pkgs')], env);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'pkgs', 'elsewhere', 'index.js'))).toBe(true);
    expect(existsSync(join(pluginsDir, 'elsewhere'))).toBe(false);
  }, 60_000);

  it('makes a plugin the hub loads: its schema compiles and discovery finds it in PLUGINS_DIR', async () => {
    const loaded = await loadPlugin(join(pluginsDir, 'my-thing', 'index.js'));
    expect(loaded.metadata).toMatchObject({ id: 'my-thing', name: 'My Thing', version: '0.1.0' });
    expect(loaded.validateConfig({ url: 'https://example.com/in', token: 't0k' })).toBe(true);
    expect(loaded.validateConfig({ token: 't0k' })).toBe(false);
    expect(loaded.secretKeys).toEqual(['token']);
    const registry = await loadPlugins([pluginsDir], pino({ level: 'silent' }));
    expect(registry.list().map((p) => p.metadata.id)).toEqual(['my-thing']);
  });

  it('refuses to overwrite an existing folder', async () => {
    const index = join(pluginsDir, 'my-thing', 'index.js');
    const before = readFileSync(index, 'utf8');
    const result = await runCli(['connector', 'new', 'my-thing'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^formhub: .*my-thing already exists; nothing was written\n$/);
    expect(readFileSync(index, 'utf8')).toBe(before);
  }, 60_000);

  it('refuses bad names and built-in connector names, creating nothing', async () => {
    const names = ['My_Thing', 'x', '1thing', '-thing', 'a'.repeat(42), 'webhook'];
    const results = await Promise.all(names.map((name) => runCli(['connector', 'new', name], env)));
    for (const [i, result] of results.entries()) {
      expect(result.code, names[i]).toBe(1);
      expect(result.stderr.trim().split('\n'), names[i]).toHaveLength(1);
      expect(existsSync(join(pluginsDir, names[i]!)), names[i]).toBe(false);
    }
    expect(results[0]!.stderr).toContain('must match /^[a-z][a-z0-9-]{1,40}$/');
    expect(results[5]!.stderr).toContain('"webhook" is a built-in connector');
  }, 60_000);
});
