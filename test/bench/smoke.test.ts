import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BENCH_SMOKE_CASES, type SmokeCase } from './smoke-cases.ts';

/**
 * Every benchmark, run at tiny sizes the way `npm run bench:*` runs it, so that none of them
 * rots between the runs that produce docs/BENCHMARKS.md: each must exit 0 and print its
 * result line (the JSON line with its `bench` name). The figures are not checked: at these
 * sizes they mean nothing.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A bench still running after this is killed and fails (smoke sizes take 10-40 s on a busy 2-core machine). */
const BENCH_TIMEOUT_MS = 150_000;
/** Benches run this many at a time: enough to keep the file near 2 minutes, few enough not to starve a busy machine. */
const PARALLEL = 4;

const scripts = (
  JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** `node <flags> bench/x.ts` from package.json, as arguments for this node binary. */
function nodeArgs(script: string): string[] {
  const command = scripts[script];
  if (!command) throw new Error(`package.json has no script ${script}`);
  const [program, ...args] = command.split(' ');
  if (program !== 'node') throw new Error(`${script} must run node directly (got "${command}")`);
  return args;
}

let running = 0;
const waiting: (() => void)[] = [];
async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function run(smoke: SmokeCase): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs(smoke.script), {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1', ...smoke.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a timeout stops the bench and every process it started (a
      // bench that starts `formhub api` would otherwise leave that hub running).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)),
    );
    // SIGTERM first so the bench drops its databases and Redis keys; SIGKILL if it hangs on that.
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group has already exited.
      }
    };
    const timer = setTimeout(() => {
      signalGroup('SIGTERM');
      setTimeout(() => signalGroup('SIGKILL'), 10_000).unref();
    }, BENCH_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The bench's result line: a JSON object whose `bench` is `name`. */
function resultLine(stdout: string, name: string): Record<string, unknown> | undefined {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.bench === name) return parsed;
    } catch {
      // A table row or log line that starts with "{" is not the result line: keep looking.
    }
  }
  return undefined;
}

describe('benchmarks at smoke sizes', () => {
  it('cover every bench script, and every bench script runs a file of bench/', () => {
    const files = readdirSync(`${ROOT}bench`).filter((name) => name.endsWith('.ts'));
    const benchScripts = Object.keys(scripts).filter((name) => name.startsWith('bench:'));
    for (const file of files)
      expect(
        benchScripts.some((name) => scripts[name]!.endsWith(` bench/${file}`)),
        file,
      ).toBe(true);
    for (const name of benchScripts)
      expect(
        BENCH_SMOKE_CASES.some((c) => c.script === name),
        name,
      ).toBe(true);
  });

  describe.concurrent.each(BENCH_SMOKE_CASES.map((c) => [c.label, c] as const))(
    '%s',
    (_label, smoke) => {
      it('exits 0 and prints its result line', { timeout: 4 * BENCH_TIMEOUT_MS }, async () => {
        const { code, stdout, stderr } = await inSlot(() => run(smoke));
        const tail = `${stdout.slice(-2000)}\n${stderr}`;
        expect(code, tail).toBe(0);
        expect(resultLine(stdout, smoke.result), tail).toBeDefined();
      });
    },
  );
});
