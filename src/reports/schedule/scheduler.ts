/** One report's schedule as the job scheduler holds it. */
export interface ReportSchedule {
  reportId: string;
  pattern: string;
  timezone: string;
}

/** The job data of a report run: scheduled (no runId) or asked for through the API. */
export interface ReportJob {
  reportId: string;
  runId?: string;
}

/**
 * Where reports are scheduled and runs queued; `BullReportScheduler` is the BullMQ one.
 * Upserting is idempotent: the scheduler id is the report id.
 */
export interface ReportScheduler {
  upsert(schedule: ReportSchedule): Promise<void>;
  remove(reportId: string): Promise<void>;
  /** The ids of every report that has a scheduler. */
  scheduledIds(): Promise<string[]>;
  enqueueRun(job: Required<ReportJob>): Promise<void>;
  close(): Promise<void>;
}
