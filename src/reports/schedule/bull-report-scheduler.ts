import { Queue } from 'bullmq';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../../common/index.ts';
import type { Config } from '../../config/index.ts';
import { openRedis, type Redis } from '../../redis/index.ts';
import type { ReportJob, ReportSchedule, ReportScheduler } from './scheduler.ts';

export const REPORT_QUEUE = 'reports';
export const REPORT_JOB = 'report';

/** The BullMQ key prefix of this hub (REDIS_PREFIX + `bull`), as the other queues use. */
export function reportBullPrefix(config: Config): string {
  return `${config.redis.prefix}bull`;
}

/**
 * Report schedules as BullMQ job schedulers (`pattern` + `tz`, so "Monday 09:00
 * Europe/Berlin" stays 09:00 Berlin time across daylight-saving changes), and manual runs
 * as plain jobs on the same queue.
 */
export class BullReportScheduler implements ReportScheduler {
  private readonly connection: Redis;
  private readonly queue: Queue<ReportJob>;

  constructor(config: Config) {
    this.connection = openRedis(config.redis.url, 'retry-once');
    this.queue = new Queue<ReportJob>(REPORT_QUEUE, {
      connection: this.connection,
      prefix: reportBullPrefix(config),
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1_000 },
    });
    // Connection errors: each failed call rejects to its caller (the API answers it).
    this.queue.on('error', () => undefined);
  }

  async upsert({ reportId, pattern, timezone }: ReportSchedule): Promise<void> {
    await this.queue.upsertJobScheduler(
      reportId,
      { pattern, tz: timezone },
      {
        name: REPORT_JOB,
        data: { reportId },
        opts: { removeOnComplete: true, removeOnFail: 1_000 },
      },
    );
  }

  async remove(reportId: string): Promise<void> {
    await this.queue.removeJobScheduler(reportId);
  }

  async scheduledIds(): Promise<string[]> {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return schedulers.map((s) => s.key);
  }

  async enqueueRun(job: Required<ReportJob>): Promise<void> {
    await this.queue.add(REPORT_JOB, job, { jobId: `run-${job.runId}` });
  }

  async close(): Promise<void> {
    // As the delivery queue: a bounded wait, then the connection is dropped (the schedules
    // live in Redis, the reports in PostgreSQL).
    await finishedWithin(this.queue.close(), CLOSE_DEADLINE_MS);
    this.connection.disconnect();
  }
}
