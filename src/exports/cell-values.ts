import type { presentResponse } from '../responses/index.ts';
import type { ExportColumn } from './columns.ts';

/** A response row as the exports read it (the listing's row). */
export type ExportRow = Parameters<typeof presentResponse>[0];

/** The raw value of one column of one response: an attribute, or a data key (undefined when absent). */
export function cellOf(column: ExportColumn, row: ExportRow): unknown {
  if (!column.meta) return row.data[column.key];
  if (column.kind === 'id') return row.id;
  if (column.kind === 'submitted_at') return row.submitted_at;
  return row.completed;
}
