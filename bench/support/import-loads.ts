/** The import benchmark's baseline and references: PostgreSQL loading the same rows by itself. */

import { spawn, spawnSync } from 'node:child_process';
import { insertImportBatch } from '../../src/responses/queries.ts';
import { columnArrays, COPY_COLUMNS } from './copy-file.ts';
import {
  emptyTable,
  expectRows,
  startClock,
  stopClock,
  type Context,
  type Measurement,
} from './import-context.ts';
import { importRows } from './workload.ts';

/** The baseline: `COPY responses (...) FROM '<file>'`, the server reading the CSV itself. */
export async function serverCopy(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const clock = await startClock(ctx);
  await ctx.admin.query(`COPY responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`);
  const { ms, rest } = await stopClock(ctx, clock);
  await expectRows(ctx, 'COPY');
  return {
    name: 'baseline: COPY responses FROM file (server-side)',
    ms,
    rest,
    note: 'CSV in /tmp, read by the server',
  };
}

/** Whether a psql client is on the PATH. */
export function psqlAvailable(): boolean {
  return spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** psql's `\\copy`: COPY FROM STDIN, the file streamed by the client over the connection. */
export async function psqlCopy(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const command = `\\copy responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`;
  const clock = await startClock(ctx);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', ctx.url, '-c', command],
      { stdio: 'inherit' },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const { ms, rest } = await stopClock(ctx, clock);
  if (code !== 0) throw new Error(`psql \\copy exited with ${code}`);
  await expectRows(ctx, 'psql \\copy');
  const note = 'includes starting psql; its backend counts in others';
  return { name: 'reference: psql \\copy (COPY FROM STDIN)', ms, rest, note };
}

/** The import's own INSERT ... SELECT FROM unnest, with every row in one statement. */
export async function unnestAll(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const arrays = columnArrays(importRows(ctx.rows, ctx.now));
  const clock = await startClock(ctx);
  await ctx.hub.db.transaction((tx) =>
    insertImportBatch(tx, ctx.form.workspace_id, ctx.form.id, ctx.form.version, arrays),
  );
  const { ms, rest } = await stopClock(ctx, clock);
  await expectRows(ctx, 'unnest');
  return {
    name: 'reference: one INSERT ... SELECT FROM unnest (all rows)',
    ms,
    rest,
    note: 'arrays built before timing',
  };
}
