import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/config/index.ts', import.meta.url));

interface Child {
  /** Resolves once the child has loaded the module and waits for `go`. */
  ready: Promise<void>;
  go(): void;
  done: Promise<{ code: number | null; out: string; err: string }>;
}

/**
 * One process that loads the config module, says `ready`, and on a byte on stdin loads the
 * key of `dataDir` and prints it in base64: all children then race for the same moment.
 */
function keyLoader(dataDir: string): Child {
  const script = `const { loadConfig, loadEncryptionKey } = await import(${JSON.stringify(MODULE)});
    const config = loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)} });
    process.stderr.write('ready\\n');
    process.stdin.once('data', () => {
      process.stdout.write(loadEncryptionKey(config).toString('base64'));
      process.exit(0);
    });`;
  const child = spawn(process.execPath, [
    '--conditions=formhub-source',
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script,
  ]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('ready')) resolve();
    });
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out, err })),
  );
  return { ready, go: () => child.stdin.write('go'), done };
}

describe('the development encryption key in DATA_DIR', () => {
  let dataDir = '';
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is one key when several processes start on a fresh DATA_DIR at once', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-key-'));
    const children = Array.from({ length: 12 }, () => keyLoader(dataDir));
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    const runs = await Promise.all(children.map((child) => child.done));
    for (const run of runs) expect(run.code, run.err).toBe(0);
    const keys = new Set(runs.map((run) => run.out));
    expect(keys.size).toBe(1);
    const file = join(dataDir, 'encryption.key');
    expect(readFileSync(file, 'utf8').trim()).toBe([...keys][0]);
    expect(Buffer.from([...keys][0]!, 'base64')).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 60_000);
});
