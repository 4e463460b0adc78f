import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';

/** `formhub`; run it as `node ...STARTUP_V8_FLAGS BIN`, as its shebang does. */
export const BIN = fileURLToPath(new URL('../../bin/formhub.js', import.meta.url));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** The environment for a child formhub: this one without any DATABASE_URL, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.DATABASE_REPLICA_URL;
  return { ...base, LOG_LEVEL: process.env.FORMHUB_TEST_LOG_LEVEL ?? 'warn', ...env };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `formhub <args>` to completion (bounded by `timeoutMs`). */
export function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...STARTUP_V8_FLAGS, BIN, ...args], {
      env: childEnv(env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`formhub ${args.join(' ')} did not finish in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts `formhub <args>` in the background and waits until `GET /readyz` answers 200.
 * `nodeArgs` go to node before the script (e.g. `--import` of a preload); `bin` runs
 * another checkout's formhub (a benchmark's baseline), from its own directory.
 */
export async function startServer(
  args: string[],
  env: Record<string, string>,
  port: number,
  timeoutMs = 60_000,
  options: { nodeArgs?: string[]; bin?: string; cwd?: string } = {},
): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<number | null> }> {
  const script = [...STARTUP_V8_FLAGS, ...(options.nodeArgs ?? []), options.bin ?? BIN, ...args];
  const child = spawn(process.execPath, script, {
    env: childEnv({ ...env, PORT: String(port) }),
    cwd: options.cwd,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`formhub exited early (${child.exitCode}): ${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`formhub was not ready within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
