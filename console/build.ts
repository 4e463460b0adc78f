/**
 * Builds the admin console with Vite when its output is missing or older than its sources.
 * `npm start` runs it first (prestart), the end-to-end test before it opens the browser:
 * `npm ci && npm start` needs no second step. `--force` builds regardless.
 */
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
  return !existsSync(stamp) || !existsSync(join(outDir, 'index.html')) || statSync(stamp).mtimeMs < newestSource();
}

/** Builds when stale (or always with `force`); answers whether it built. */
export async function ensureConsoleBuilt(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && !consoleIsStale()) return false;
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    // Production installs (--omit=dev) have no Vite: they must ship a built console.
    if (existsSync(join(outDir, 'index.html'))) return false;
    throw new Error('the admin console is not built and Vite is not installed (npm ci installs it)');
  }
  const { default: config } = await import('./vite.config.ts');
  await vite.build({ ...config, configFile: false });
  writeFileSync(stamp, new Date().toISOString());
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  ensureConsoleBuilt({ force: process.argv.includes('--force') }).then(
    (built) => {
      if (built) console.log(`formhub: admin console built into dist/console in ${Date.now() - started} ms`);
    },
    (error: unknown) => {
      console.error(`formhub: cannot build the admin console: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
