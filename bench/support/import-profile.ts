/** The import benchmark's breakdown: each part of an import timed alone. */

import { importResponses } from '../../src/responses/index.ts';
import { readImportRows } from '../../src/responses/import-reader.ts';
import { COPY_COLUMNS } from './copy-file.ts';
import { ndjsonChunks } from './import-body.ts';
import { emptyTable, expectRows, timed, type Context, type Measurement } from './import-context.ts';
import { NullDatabase } from './null-database.ts';
import { importRows } from './workload.ts';

async function* fromChunks(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

/** Replays the import's own batch statements (captured by NullDatabase) in one transaction. */
async function replayBatches(ctx: Context, sink: NullDatabase) {
  await emptyTable(ctx);
  const result = await timed(ctx, () =>
    ctx.hub.db.transaction(async (tx) => {
      for (const params of sink.statements) await tx.query(sink.sql, params);
    }),
  );
  await expectRows(ctx, 'batch replay');
  return result;
}

/** The import's parts, each timed alone (the endpoint runs them one after another). */
export async function profile(ctx: Context): Promise<Measurement[]> {
  const out: Measurement[] = [];
  let chunks: Buffer[] = [];
  const generate = await timed(
    ctx,
    async () => void (chunks = [...ndjsonChunks(importRows(ctx.rows, ctx.now))]),
  );
  out.push({
    name: 'client: generate the NDJSON body',
    ...generate,
    note: 'same process as the hub',
  });

  const parse = await timed(ctx, async () => {
    for await (const row of readImportRows(fromChunks(chunks), 'ndjson')) if (row.index < 0) break;
  });
  out.push({ name: 'hub: decode + split + JSON.parse rows', ...parse, note: 'readImportRows' });

  const sink = new NullDatabase();
  const pipeline = await timed(ctx, () =>
    importResponses(sink, ctx.form, readImportRows(fromChunks(chunks), 'ndjson')),
  );
  out.push({
    name: 'hub: parse + validate + serialise (no DB)',
    ...pipeline,
    note: 'importResponses on a null DB',
  });

  const ginOn = await replayBatches(ctx, sink);
  out.push({
    name: "db: the import's unnest batches, GIN on",
    ...ginOn,
    note: `${sink.statements.length} statements, 1 tx`,
  });

  const { rows } = await ctx.admin.query<{ indexdef: string }>(
    "SELECT indexdef FROM pg_indexes WHERE tablename = 'responses' AND indexname = 'responses_data_idx'",
  );
  const indexdef = rows[0]?.indexdef;
  if (!indexdef) throw new Error('responses_data_idx not found');
  await ctx.admin.query('DROP INDEX responses_data_idx');
  try {
    const ginOff = await replayBatches(ctx, sink);
    out.push({
      name: 'db: the same batches, GIN index dropped',
      ...ginOff,
      note: 'responses_data_idx dropped',
    });
    await emptyTable(ctx);
    const copy = await timed(ctx, () =>
      ctx.admin.query(`COPY responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`),
    );
    out.push({ name: 'db: server-side COPY, GIN index dropped', ...copy, note: 'for scale' });
  } finally {
    await ctx.admin.query('TRUNCATE responses');
    await ctx.admin.query(indexdef);
  }
  return out;
}
