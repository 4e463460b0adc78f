/** The COPY baseline's input: the same rows as an import, as a CSV file PostgreSQL reads itself. */

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { uuidv7 } from '../../src/common/ids.ts';
import type { ImportRow } from './workload.ts';

/** The columns an import fills, in file order. */
export const COPY_COLUMNS =
  'id, workspace_id, form_id, form_version, data, completed, metadata, submitted_at, updated_at, source';

function csvQuote(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * Writes `rows` as CSV in COPY_COLUMNS order, with the values an import stores (uuidv7 ids
 * from `submitted_at`, `source` = import), readable by the server (mode 0644).
 */
export async function writeCopyCsv(
  path: string,
  rows: Iterable<ImportRow>,
  workspaceId: string,
  formId: string,
  formVersion: number,
): Promise<number> {
  const out = createWriteStream(path, { mode: 0o644 });
  let count = 0;
  let parts: string[] = [];
  for (const row of rows) {
    const at = new Date(row.submitted_at);
    const iso = at.toISOString();
    const data = csvQuote(JSON.stringify(row.data));
    const id = uuidv7(at.getTime());
    parts.push(
      `${id},${workspaceId},${formId},${formVersion},${data},${row.completed},"{}",${iso},${iso},import\n`,
    );
    count++;
    if (parts.length === 1000) {
      if (!out.write(parts.join(''))) await once(out, 'drain');
      parts = [];
    }
  }
  out.end(parts.join(''));
  await once(out, 'finish');
  return count;
}

/** The same rows as the column arrays of one `INSERT ... SELECT FROM unnest(...)`. */
export function columnArrays(rows: Iterable<ImportRow>) {
  const arrays = {
    ids: [] as string[],
    data: [] as string[],
    completed: [] as boolean[],
    submittedAt: [] as string[],
    metadata: [] as string[],
  };
  for (const row of rows) {
    const at = new Date(row.submitted_at);
    arrays.ids.push(uuidv7(at.getTime()));
    arrays.data.push(JSON.stringify(row.data));
    arrays.completed.push(row.completed);
    arrays.submittedAt.push(at.toISOString());
    arrays.metadata.push('{}');
  }
  return arrays;
}
