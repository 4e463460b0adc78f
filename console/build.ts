/**
 * Builds the admin console with Vite when its output is missing or older than its sources.
 * `npm start` runs it first (prestart), the end-to-end test before it opens the browser:
 * `npm ci && npm start` needs no second step. `--force` builds regardless.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Vite from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, '..', 'dist', 'console');
const stamp = join(outDir, '.built');

/** The newest modification time of the console's sources and build configuration. */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const name of ['index.html', 'src', 'vite.config.ts', 'tsconfig.json']) {
    if (existsSync(join(here, name))) visit(join(here, name));
  }
  const lock = join(here, '..', 'package-lock.json');
  if (existsSync(lock)) newest = Math.max(newest, statSync(lock).mtimeMs);
  return newest;
}

/** True when the built console is missing or older than a source file. */
export function consoleIsStale(): boolean {
  return (
    !existsSync(stamp) ||
    !existsSync(join(outDir, 'index.html')) ||
    statSync(stamp).mtimeMs < newestSource()
  );
}

/** Builds in this process (the command line below); NODE_ENV must already be `production`. */
async function build(): Promise<void> {
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    // Production installs (--omit=dev) have no Vite: they must ship a built console.
    if (existsSync(join(outDir, 'index.html'))) return;
    throw new Error(
      'the admin console is not built and Vite is not installed (npm ci installs it)',
    );
  }
  const { default: config } = await import('./vite.config.ts');
  await vite.build({ ...config, configFile: false });
  writeFileSync(stamp, new Date().toISOString());
}

/**
 * Builds when stale (or always with `force`), in a child process with NODE_ENV=production
 * (under vitest NODE_ENV is `test`, and Vite would then build a larger, non-production
 * bundle); answers whether it built.
 */
export async function ensureConsoleBuilt(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && !consoleIsStale()) return false;
  const script = fileURLToPath(import.meta.url);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--force'], {
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(stderr.trim() || `the console build exited with ${code}`)),
    );
  });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const force = process.argv.includes('--force');
  process.env.NODE_ENV = 'production';
  (force || consoleIsStale() ? build().then(() => true) : Promise.resolve(false)).then(
    (built) => {
      if (built)
        console.log(`formhub: admin console built into dist/console in ${Date.now() - started} ms`);
    },
    (error: unknown) => {
      console.error(
        `formhub: cannot build the admin console: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exitCode = 1;
    },
  );
}
