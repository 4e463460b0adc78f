/** Starts bench/support/webhook-receiver.ts as a child process and talks to it over IPC. */

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BENCH_EXEC_ARGV } from './hub-node-flags.ts';
import type { ReceiverCommand, ReceiverDump, ReceiverSummary } from './webhook-receiver.ts';

const SCRIPT = fileURLToPath(new URL('./webhook-receiver.ts', import.meta.url));

export interface ReceiverProcess {
  pid: number;
  /** `http://127.0.0.1:<port>`; append a path (`/flaky...` paths fail at random). */
  base: string;
  summary(path: string): Promise<ReceiverSummary>;
  dump(path: string): Promise<ReceiverDump>;
  reset(path: string): Promise<void>;
  /** Polls until `path` has `count` requests (and `okCount` 2xx, when given); throws after `timeoutMs`. */
  waitFor(
    path: string,
    count: number,
    timeoutMs: number,
    okCount?: number,
  ): Promise<ReceiverSummary>;
  stop(): Promise<void>;
}

export async function startReceiverProcess(
  env: Record<string, string> = {},
): Promise<ReceiverProcess> {
  const child: ChildProcess = fork(SCRIPT, [], {
    execArgv: [...BENCH_EXEC_ARGV],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending: ((message: Record<string, unknown>) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the receiver did not start within 30 s')),
      30_000,
    );
    child.once('error', reject);
    child.on('message', (message: Record<string, unknown>) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(Number(message.port));
        return;
      }
      pending.shift()?.(message);
    });
  });
  const ask = <T>(command: ReceiverCommand): Promise<T> =>
    new Promise<T>((resolve) => {
      pending.push((message) => resolve(message as T));
      child.send(command);
    });
  const receiver: ReceiverProcess = {
    pid: child.pid!,
    base: `http://127.0.0.1:${port}`,
    summary: (path) => ask<ReceiverSummary>({ cmd: 'summary', path }),
    dump: (path) => ask<ReceiverDump>({ cmd: 'dump', path }),
    reset: async (path) => {
      await ask({ cmd: 'reset', path });
    },
    async waitFor(path, count, timeoutMs, okCount) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await receiver.summary(path);
        if (s.requests >= count && (okCount === undefined || s.ok >= okCount)) return s;
        if (Date.now() > deadline) {
          throw new Error(
            `receiver ${path}: ${s.requests} requests (${s.ok} 2xx) of ${count} within ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return receiver;
}
