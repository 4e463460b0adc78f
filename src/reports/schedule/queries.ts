import type { Queryable } from '../../db/index.ts';
import type { ReportFormat } from './renderer.ts';
import type { Frequency } from './schedule.ts';

/** A row of `scheduled_reports`. */
export interface ScheduledReportRow {
  id: string;
  workspace_id: string;
  form_id: string;
  cron: string | null;
  frequency: Frequency | null;
  timezone: string;
  recipients: string[];
  format: ReportFormat;
  filter: Record<string, unknown> | null;
  last_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type RunStatus = 'running' | 'succeeded' | 'failed';

/** A row of `report_runs`. */
export interface ReportRunRow {
  id: string;
  report_id: string;
  status: RunStatus;
  manual: boolean;
  period_start: Date;
  period_end: Date;
  recipients: string[];
  size: number | null;
  attempts: number;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const REPORT_COLUMNS =
  'id, workspace_id, form_id, cron, frequency, timezone, recipients, format, filter, last_run_at, created_at, updated_at';
const RUN_COLUMNS =
  'id, report_id, status, manual, period_start, period_end, recipients, size::float8 AS size, attempts, error, started_at, finished_at';

export type NewReport = Omit<ScheduledReportRow, 'last_run_at' | 'created_at' | 'updated_at'> & {
  now: Date;
};

export async function insertReport(db: Queryable, r: NewReport): Promise<ScheduledReportRow> {
  const { rows } = await db.query<ScheduledReportRow>(
    `INSERT INTO scheduled_reports (id, workspace_id, form_id, cron, frequency, timezone, recipients, format, filter, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ${REPORT_COLUMNS}`,
    [
      r.id,
      r.workspace_id,
      r.form_id,
      r.cron,
      r.frequency,
      r.timezone,
      r.recipients,
      r.format,
      r.filter === null ? null : JSON.stringify(r.filter),
      r.now,
    ],
  );
  return rows[0]!;
}

/** A live report of the workspace; undefined for unknown, deleted or another workspace's. */
export async function findReport(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ScheduledReportRow | undefined> {
  const { rows } = await db.query<ScheduledReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM scheduled_reports WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`,
    [id, workspaceId],
  );
  return rows[0];
}

/** A live report by id alone, for the worker. */
export async function findLiveReportById(
  db: Queryable,
  id: string,
): Promise<ScheduledReportRow | undefined> {
  const { rows } = await db.query<ScheduledReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM scheduled_reports WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  return rows[0];
}

export async function listReports(
  db: Queryable,
  workspaceId: string,
  limit: number,
  beforeId: string | undefined,
  formIds: readonly string[] | null = null,
): Promise<ScheduledReportRow[]> {
  const { rows } = await db.query<ScheduledReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM scheduled_reports
     WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id < $2::uuid)
       AND ($4::uuid[] IS NULL OR form_id = ANY($4::uuid[]))
     ORDER BY id DESC LIMIT $3`,
    [workspaceId, beforeId ?? null, limit, formIds],
  );
  return rows;
}

/** Every live report of every workspace whose form is live too: what the schedulers mirror. */
export async function listAllLiveReports(db: Queryable): Promise<ScheduledReportRow[]> {
  const { rows } = await db.query<ScheduledReportRow>(
    `SELECT ${REPORT_COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ')} FROM scheduled_reports r
     JOIN forms f ON f.id = r.form_id AND f.deleted_at IS NULL
     WHERE r.deleted_at IS NULL ORDER BY r.id`,
  );
  return rows;
}

export async function softDeleteReport(
  db: Queryable,
  workspaceId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE scheduled_reports SET deleted_at = $3, updated_at = $3
     WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`,
    [id, workspaceId, now],
  );
  return rowCount > 0;
}

export async function setLastRunAt(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE scheduled_reports SET last_run_at = GREATEST(COALESCE(last_run_at, $2), $2) WHERE id = $1`,
    [id, at],
  );
}

export interface NewRun {
  id: string;
  reportId: string;
  manual: boolean;
  periodStart: Date;
  periodEnd: Date;
  recipients: string[];
  now: Date;
}

export async function insertRun(db: Queryable, run: NewRun): Promise<ReportRunRow> {
  const { rows } = await db.query<ReportRunRow>(
    `INSERT INTO report_runs (id, report_id, status, manual, period_start, period_end, recipients, started_at)
     VALUES ($1, $2, 'running', $3, $4, $5, $6, $7) RETURNING ${RUN_COLUMNS}`,
    [run.id, run.reportId, run.manual, run.periodStart, run.periodEnd, run.recipients, run.now],
  );
  return rows[0]!;
}

export async function findRun(
  db: Queryable,
  reportId: string,
  id: string,
): Promise<ReportRunRow | undefined> {
  const { rows } = await db.query<ReportRunRow>(
    `SELECT ${RUN_COLUMNS} FROM report_runs WHERE id = $1 AND report_id = $2`,
    [id, reportId],
  );
  return rows[0];
}

export async function listRuns(
  db: Queryable,
  reportId: string,
  limit: number,
  beforeId: string | undefined,
): Promise<ReportRunRow[]> {
  const { rows } = await db.query<ReportRunRow>(
    `SELECT ${RUN_COLUMNS} FROM report_runs
     WHERE report_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
     ORDER BY id DESC LIMIT $3`,
    [reportId, beforeId ?? null, limit],
  );
  return rows;
}

export async function setRunAttempts(db: Queryable, id: string, attempts: number): Promise<void> {
  await db.query(`UPDATE report_runs SET attempts = $2 WHERE id = $1`, [id, attempts]);
}

export interface RunOutcome {
  status: 'succeeded' | 'failed';
  attempts: number;
  size: number | null;
  error: string | null;
  now: Date;
}

/** Finishes a running run; answers false when it had already finished. */
export async function finishRun(db: Queryable, id: string, o: RunOutcome): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE report_runs SET status = $2, attempts = $3, size = $4, error = $5, finished_at = $6
     WHERE id = $1 AND status = 'running'`,
    [id, o.status, o.attempts, o.size, o.error, o.now],
  );
  return rowCount > 0;
}

/** Live responses of a form submitted in [start, end). */
export async function countResponses(
  db: Queryable,
  formId: string,
  start: Date,
  end: Date,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM responses
     WHERE form_id = $1 AND NOT deleted AND submitted_at >= $2 AND submitted_at < $3`,
    [formId, start, end],
  );
  return rows[0]?.n ?? 0;
}

export interface PeriodResponse {
  id: string;
  submitted_at: Date;
  completed: boolean;
  data: Record<string, unknown>;
}

/** Live responses of a form submitted in [start, end), oldest first (for the CSV renderer). */
export async function listPeriodResponses(
  db: Queryable,
  formId: string,
  start: Date,
  end: Date,
): Promise<PeriodResponse[]> {
  const { rows } = await db.query<PeriodResponse>(
    `SELECT id, submitted_at, completed, data FROM responses
     WHERE form_id = $1 AND NOT deleted AND submitted_at >= $2 AND submitted_at < $3
     ORDER BY submitted_at, id`,
    [formId, start, end],
  );
  return rows;
}
