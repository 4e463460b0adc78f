import { uuidv7, findTextProblem, formatPath, MAX_INPUT_DEPTH } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import { AppError, validationFailed, type ErrorDetail } from '../errors/index.ts';
import { compileValidator, computeCalculated, type FormRow } from '../forms/index.ts';
import { metadataProblem } from './metadata-limits.ts';
import { insertImportBatch, tryImportSlot, type ImportBatch } from './queries.ts';

const BATCH_SIZE = 2_000;
const MAX_DETAILS = 100;
/** Imports one workspace may run at a time (DESIGN.md 3a); one more answers 429. */
export const MAX_CONCURRENT_IMPORTS = 2;
const RETRY_AFTER_SECONDS = '10';

type Row = { index: number; value: unknown };

/**
 * Imports historical responses in one transaction, streaming: rows are validated as they
 * arrive and inserted in batches, so memory holds one batch however large the import.
 * One invalid row rejects the whole import (rolled back) with 422 naming each bad row
 * (`[3].email`); no event is raised, so no integration is notified. At most
 * MAX_CONCURRENT_IMPORTS run at a time per workspace (429 beyond, before any row is read).
 */
export async function importResponses(
  db: Database,
  form: FormRow,
  rows: AsyncIterable<Row>,
): Promise<number> {
  const validate = compileValidator(
    form.fields,
    form.calculated_fields.map((c) => c.key),
  );
  const details: ErrorDetail[] = [];
  let imported = 0;
  await db.transaction(async (tx) => {
    // Before the first row is read: a refused import costs no parsing.
    if (!(await tryImportSlot(tx, form.workspace_id, MAX_CONCURRENT_IMPORTS))) {
      const message = `at most ${MAX_CONCURRENT_IMPORTS} imports may run at a time in a workspace; retry when one ends`;
      throw new AppError('rate_limited', message, [], { 'retry-after': RETRY_AFTER_SECONDS });
    }
    let batch = emptyBatch();
    // One batch is written while the next is parsed and validated: at most two in memory.
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (batch.ids.length === 0) return;
      const full = batch;
      batch = emptyBatch();
      await inFlight;
      inFlight = insertImportBatch(tx, form.workspace_id, form.id, form.version, full).then((n) => {
        imported += n;
      });
      inFlight.catch(() => undefined); // surfaced by the next await
    };
    for await (const { index, value } of rows) {
      const row = checkRow(value, index, details);
      if (!row) continue;
      const issues = validate(row.data, { completed: row.completed });
      if (issues.length > 0) {
        for (const issue of issues) addDetail(details, `[${index}].${issue.field}`, issue.message);
        continue;
      }
      const data = calculated(form, row.data, index, details);
      // The import fails: keep reading only to report more rows.
      if (details.length > 0 || data === undefined) continue;
      batch.ids.push(uuidv7(row.submittedAt.getTime()));
      batch.data.push(JSON.stringify(data));
      batch.completed.push(row.completed);
      batch.submittedAt.push(row.submittedAt.toISOString());
      batch.metadata.push(JSON.stringify(row.metadata));
      if (batch.ids.length >= BATCH_SIZE) await flush();
    }
    await inFlight;
    if (details.length > 0)
      throw validationFailed('the import has invalid rows; nothing was imported', details);
    await flush();
    await inFlight;
  });
  return imported;
}

/** The row's data with its calculated fields, or undefined (and a detail) past their bounds. */
function calculated(
  form: FormRow,
  data: Record<string, unknown>,
  index: number,
  details: ErrorDetail[],
): Record<string, unknown> | undefined {
  try {
    return computeCalculated(form.calculated_fields, data);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    for (const detail of error.details)
      addDetail(details, `[${index}].${detail.field}`, detail.message);
    return undefined;
  }
}

function emptyBatch(): ImportBatch {
  return { ids: [], data: [], completed: [], submittedAt: [], metadata: [] };
}

function addDetail(details: ErrorDetail[], field: string, message: string): void {
  if (details.length < MAX_DETAILS) details.push({ field, message });
}

interface ImportRow {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  submittedAt: Date;
  completed: boolean;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Checks one row's shape: `{data: {...}, submitted_at: ISO 8601, completed?: boolean, metadata?: {...}}`. */
function checkRow(value: unknown, index: number, details: ErrorDetail[]): ImportRow | undefined {
  if (!isObject(value)) {
    addDetail(details, `[${index}]`, 'must be an object with data and submitted_at');
    return undefined;
  }
  const text = findTextProblem(value, MAX_INPUT_DEPTH);
  if (text !== null) {
    addDetail(details, formatPath(`[${index}]`, text.path), text.message);
    return undefined;
  }
  const before = details.length;
  if (!isObject(value.data)) addDetail(details, `[${index}].data`, 'must be an object');
  const at =
    typeof value.submitted_at === 'string' && ISO_DATETIME.test(value.submitted_at)
      ? new Date(value.submitted_at)
      : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    addDetail(details, `[${index}].submitted_at`, 'must be an ISO 8601 date-time with a time zone');
  }
  if (value.metadata !== undefined && !isObject(value.metadata)) {
    addDetail(details, `[${index}].metadata`, 'must be an object');
  } else if (value.metadata !== undefined) {
    const problem = metadataProblem(value.metadata);
    if (problem !== null) addDetail(details, `[${index}].metadata`, problem);
  }
  if (value.completed !== undefined && typeof value.completed !== 'boolean') {
    addDetail(details, `[${index}].completed`, 'must be true or false');
  }
  const unknown = Object.keys(value).filter(
    (k) => !['data', 'submitted_at', 'completed', 'metadata'].includes(k),
  );
  for (const key of unknown) addDetail(details, `[${index}].${key}`, 'is not a known property');
  if (details.length > before) return undefined;
  return {
    data: value.data as Record<string, unknown>,
    metadata: (value.metadata as Record<string, unknown> | undefined) ?? {},
    submittedAt: at!,
    completed: (value.completed as boolean | undefined) ?? true,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
