import type { AddressInfo } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormService } from '../../src/forms/index.ts';
import { createAuthHooks } from '../../src/http/auth.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { ErrorBody } from '../../src/http/schemas.ts';
import { createValidatorCompiler } from '../../src/http/validators.ts';
import {
  BullReportScheduler,
  CsvReportRenderer,
  NO_SMTP_ERROR,
  reportRoutes,
  ReportRunner,
  ScheduledReportService,
  startReportJobs,
  syncReportSchedules,
  type RunningReportJobs,
} from '../../src/reports/index.ts';
import { WorkspaceService } from '../../src/workspaces/index.ts';
import { expectError, fieldsOf, sleep, UUID_RE } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

interface Report {
  id: string;
  form_id: string;
  cron: string | null;
  frequency: string | null;
  timezone: string;
  recipients: string[];
  format: string;
  filter: unknown;
  next_run_at: string | null;
  last_run_at: string | null;
  created_at: string;
}

interface Run {
  id: string;
  report_id: string;
  status: 'running' | 'succeeded' | 'failed';
  manual: boolean;
  period_start: string;
  period_end: string;
  recipients: string[];
  size: number | null;
  attempts: number;
  error: string | null;
}

interface Mail {
  to: string[];
  raw: string;
}

/** A local SMTP server that keeps what it receives and can refuse recipients with 451. */
async function startSmtp() {
  const state = { mails: [] as Mail[], refuse: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (state.refuse > 0) {
        state.refuse--;
        return callback(
          Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }),
        );
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    state,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded body of the MIME part whose filename is `filename` (mailparser is not installed). */
function attachmentOf(raw: string, filename: string): string | undefined {
  const at =
    raw.indexOf(`filename=${filename}`) >= 0
      ? raw.indexOf(`filename=${filename}`)
      : raw.indexOf(`filename="${filename}"`);
  if (at < 0) return undefined;
  const partStart = raw.lastIndexOf('\r\n--', at);
  const headersEnd = raw.indexOf('\r\n\r\n', at);
  const headers = raw.slice(partStart, headersEnd);
  const bodyEnd = raw.indexOf('\r\n--', headersEnd + 4);
  const body = raw.slice(headersEnd + 4, bodyEnd);
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64')
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    return body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return body;
}

describe('scheduled reports', () => {
  let hub: TestHub;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let api: FastifyInstance;
  let scheduler: BullReportScheduler;
  let jobs: RunningReportJobs;
  let ws: { id: string; key: string };
  let other: { id: string; key: string };
  let formId: string;
  const logger = pino({ level: 'silent' });

  const request = ({ key, ...options }: InjectOptions & { key?: string }) =>
    api.inject({ ...options, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const create = (payload: object, key = ws.key) =>
    request({ method: 'POST', url: '/api/v2/scheduled-reports', key, payload });
  const createReport = async (payload: object): Promise<Report> => {
    const res = await create(payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Report;
  };
  const weekly = (extra: object = {}) => ({
    form_id: formId,
    frequency: 'weekly',
    timezone: 'Europe/Berlin',
    recipients: ['ops@example.com', 'boss@example.com'],
    format: 'csv',
    ...extra,
  });
  const runsOf = async (reportId: string): Promise<Run[]> => {
    const res = await request({
      method: 'GET',
      url: `/api/v2/scheduled-reports/${reportId}/runs`,
      key: ws.key,
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: Run[] }).data;
  };
  const finished = async (
    reportId: string,
    match: (run: Run) => boolean,
    timeoutMs = 20_000,
  ): Promise<Run> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = (await runsOf(reportId)).find((r) => match(r) && r.status !== 'running');
      if (run) return run;
      if (Date.now() > deadline)
        throw new Error(
          `no finished run for ${reportId}: ${JSON.stringify(await runsOf(reportId))}`,
        );
      await sleep(100);
    }
  };
  const runNow = async (reportId: string): Promise<Run> => {
    const res = await request({
      method: 'POST',
      url: `/api/v2/scheduled-reports/${reportId}/run`,
      key: ws.key,
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json() as Run;
  };

  beforeAll(async () => {
    smtp = await startSmtp();
    hub = await startHub({ SMTP_URL: smtp.url, REPORT_FROM: 'reports@formhub.test' });
    ws = await hub.workspace('reports');
    other = await hub.workspace('other');
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: {
        title: 'Customer NPS',
        fields: [
          { key: 'score', type: 'number' },
          { key: 'comment', type: 'text' },
        ],
      },
    });
    formId = (form.json() as { id: string }).id;
    for (const [score, comment] of [
      [9, 'great, "really"'],
      [3, '=HYPERLINK("x")'],
    ] as const) {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        key: ws.key,
        payload: { data: { score, comment } },
      });
      expect(res.statusCode, res.body).toBe(201);
    }

    api = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
    api.setValidatorCompiler(createValidatorCompiler());
    registerErrorHandler(api);
    api.addSchema(ErrorBody);
    const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
    const auth = createAuthHooks((key) => workspaces.authenticate(key));
    scheduler = new BullReportScheduler(hub.config);
    const service = new ScheduledReportService(hub.db, new FormService(hub.db), scheduler);
    await api.register(reportRoutes, { prefix: '/api/v2', service, auth });
    await api.ready();
    jobs = await startReportJobs(
      hub.config,
      { db: hub.db, renderer: new CsvReportRenderer(hub.db), retryDelaysMs: [100, 100, 100] },
      logger,
    );
  });

  afterAll(async () => {
    await jobs?.close();
    await scheduler?.close();
    await api?.close();
    await hub?.close();
    await smtp?.close();
  });

  describe('create, read, delete', () => {
    it('creates a weekly report: Monday 09:00 in its timezone, scheduled in BullMQ', async () => {
      const report = await createReport(weekly({ filter: { score: { $gte: 5 } } }));
      expect(report).toEqual({
        id: expect.stringMatching(UUID_RE),
        form_id: formId,
        cron: null,
        frequency: 'weekly',
        timezone: 'Europe/Berlin',
        recipients: ['ops@example.com', 'boss@example.com'],
        format: 'csv',
        filter: { score: { $gte: 5 } },
        next_run_at: expect.any(String),
        last_run_at: null,
        created_at: expect.any(String),
      });
      const next = new Date(report.next_run_at!);
      expect(next.getTime()).toBeGreaterThan(Date.now());
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      expect(local).toBe('Mon 09:00');
      expect(await scheduler.scheduledIds()).toContain(report.id);
    });

    it('creates a cron report and canonicalises the timezone', async () => {
      const report = await createReport({
        ...weekly(),
        frequency: undefined,
        cron: '30 7 * * 1-5',
        timezone: 'america/new_york',
        format: 'pdf',
      });
      expect(report).toMatchObject({
        cron: '30 7 * * 1-5',
        frequency: null,
        timezone: 'America/New_York',
        format: 'pdf',
        filter: null,
      });
    });

    it('refuses bad timezones, crons, both or neither schedule, bad emails', async () => {
      expect(
        fieldsOf(
          expectError(
            await create(weekly({ timezone: 'Mars/Olympus_Mons' })),
            422,
            'validation_failed',
          ),
        ),
      ).toEqual(['timezone']);
      expect(
        fieldsOf(
          expectError(await create({ ...weekly(), frequency: undefined, cron: '61 9 * * 1' }), 422),
        ),
      ).toEqual(['cron']);
      expect(
        fieldsOf(
          expectError(
            await create({ ...weekly(), frequency: undefined, cron: 'every monday' }),
            422,
          ),
        ),
      ).toEqual(['cron']);
      expect(fieldsOf(expectError(await create(weekly({ cron: '0 9 * * 1' })), 422))).toEqual([
        'cron',
      ]);
      expect(
        fieldsOf(expectError(await create({ ...weekly(), frequency: undefined }), 422)),
      ).toEqual(['cron']);
      expect(
        fieldsOf(expectError(await create(weekly({ recipients: ['not-an-email'] })), 422)),
      ).toEqual(['recipients[0]']);
      expectError(await create(weekly({ recipients: [] })), 422);
      expectError(
        await create(
          weekly({ recipients: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }),
        ),
        422,
      );
      expectError(await create(weekly({ frequency: 'hourly' })), 422);
      expectError(await create(weekly({ format: 'docx' })), 422);
    });

    it("answers 404 for another workspace's form and report", async () => {
      expectError(await create(weekly(), other.key), 404, 'not_found');
      expectError(await create(weekly({ form_id: 'nope' })), 404, 'not_found');
      const report = await createReport(weekly());
      for (const [method, url] of [
        ['GET', `/api/v2/scheduled-reports/${report.id}`],
        ['DELETE', `/api/v2/scheduled-reports/${report.id}`],
        ['POST', `/api/v2/scheduled-reports/${report.id}/run`],
        ['GET', `/api/v2/scheduled-reports/${report.id}/runs`],
      ] as const) {
        expectError(await request({ method, url, key: other.key }), 404, 'not_found');
      }
      const list = await request({
        method: 'GET',
        url: '/api/v2/scheduled-reports',
        key: other.key,
      });
      expect((list.json() as { data: Report[] }).data).toEqual([]);
      expectError(await request({ method: 'GET', url: '/api/v2/scheduled-reports' }), 401);
    });

    it('lists with a cursor, gets, deletes (and removes the job scheduler)', async () => {
      const a = await createReport(weekly());
      const b = await createReport(weekly({ frequency: 'daily' }));
      const first = await request({
        method: 'GET',
        url: '/api/v2/scheduled-reports?limit=1',
        key: ws.key,
      });
      const page1 = first.json() as { data: Report[]; next_cursor: string | null };
      expect(page1.data.map((r) => r.id)).toEqual([b.id]);
      const second = await request({
        method: 'GET',
        url: `/api/v2/scheduled-reports?limit=1&cursor=${page1.next_cursor}`,
        key: ws.key,
      });
      expect((second.json() as { data: Report[] }).data.map((r) => r.id)).toEqual([a.id]);
      const got = await request({
        method: 'GET',
        url: `/api/v2/scheduled-reports/${a.id}`,
        key: ws.key,
      });
      expect(got.json()).toEqual(a);

      const del = await request({
        method: 'DELETE',
        url: `/api/v2/scheduled-reports/${a.id}`,
        key: ws.key,
      });
      expect(del.statusCode).toBe(204);
      expectError(
        await request({ method: 'GET', url: `/api/v2/scheduled-reports/${a.id}`, key: ws.key }),
        404,
      );
      expectError(
        await request({ method: 'DELETE', url: `/api/v2/scheduled-reports/${a.id}`, key: ws.key }),
        404,
      );
      expect(await scheduler.scheduledIds()).not.toContain(a.id);
    });

    it('re-syncs the job schedulers idempotently on worker start', async () => {
      const report = await createReport(weekly());
      await scheduler.remove(report.id);
      await scheduler.upsert({
        reportId: '00000000-0000-7000-8000-000000000000',
        pattern: '0 9 * * 1',
        timezone: 'UTC',
      });
      const live = await syncReportSchedules(hub.db, scheduler);
      expect(await syncReportSchedules(hub.db, scheduler)).toBe(live);
      const ids = await scheduler.scheduledIds();
      expect(ids).toContain(report.id);
      expect(ids).not.toContain('00000000-0000-7000-8000-000000000000');
      expect(ids.length).toBe(live);
    });
  });

  describe('runs', () => {
    it('mails the report with the file attached and records the run', async () => {
      const report = await createReport(weekly());
      const before = smtp.state.mails.length;
      const queued = await runNow(report.id);
      expect(queued).toMatchObject({
        report_id: report.id,
        status: 'running',
        manual: true,
        attempts: 0,
        recipients: report.recipients,
      });
      expect(new Date(queued.period_end).getTime() - new Date(queued.period_start).getTime()).toBe(
        7 * 24 * 3_600_000,
      );

      const run = await finished(report.id, (r) => r.id === queued.id);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
      expect(run.size).toBeGreaterThan(0);
      const mail = smtp.state.mails[before]!;
      expect(mail.to).toEqual(['ops@example.com', 'boss@example.com']);
      expect(mail.raw).toMatch(/^From: reports@formhub\.test/m);
      expect(mail.raw).toContain('Subject: Report: Customer NPS');
      expect(mail.raw).toContain('Form: Customer NPS');
      expect(mail.raw).toContain('Responses: 2');
      const filename = /filename="?([\w.-]+\.csv)/.exec(mail.raw)?.[1];
      expect(filename).toMatch(/^customer-nps-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = attachmentOf(mail.raw, filename!);
      expect(Buffer.byteLength(csv!)).toBe(run.size);
      const lines = csv!.trimEnd().split('\r\n');
      expect(lines[0]).toBe('id,submitted_at,completed,score,comment');
      expect(lines.slice(1).map((l) => l.split(',').slice(2).join(','))).toEqual([
        'true,9,"great, ""really"""',
        `true,3,"'=HYPERLINK(""x"")"`,
      ]);

      const got = await request({
        method: 'GET',
        url: `/api/v2/scheduled-reports/${report.id}`,
        key: ws.key,
      });
      expect((got.json() as Report).last_run_at).toBe(run.period_end);
      const again = await runNow(report.id);
      expect(again.period_start).toBe(run.period_end);
      await finished(report.id, (r) => r.id === again.id);
    });

    it('retries a refusing SMTP server, then succeeds, recording the attempts', async () => {
      const report = await createReport(weekly({ recipients: ['retry@example.com'] }));
      smtp.state.refuse = 2;
      const queued = await runNow(report.id);
      const run = await finished(report.id, (r) => r.id === queued.id);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 3, error: null });
      expect(smtp.state.mails.at(-1)!.to).toEqual(['retry@example.com']);
    });

    it('marks the run failed with the SMTP error when every try fails', async () => {
      const report = await createReport(weekly({ recipients: ['down@example.com'] }));
      smtp.state.refuse = 1_000;
      try {
        const queued = await runNow(report.id);
        const run = await finished(report.id, (r) => r.id === queued.id);
        expect(run).toMatchObject({ status: 'failed', attempts: 4 });
        expect(run.error).toMatch(/451.*mailbox busy/);
        const got = await request({
          method: 'GET',
          url: `/api/v2/scheduled-reports/${report.id}`,
          key: ws.key,
        });
        expect((got.json() as Report).last_run_at).toBeNull();
      } finally {
        smtp.state.refuse = 0;
      }
    });

    it('fails clearly without SMTP_URL', async () => {
      const report = await createReport(weekly());
      const runner = new ReportRunner({
        db: hub.db,
        renderer: new CsvReportRenderer(hub.db),
        mailer: undefined,
        logger,
        findForm: (id) => new FormService(hub.db).getAny(id),
      });
      const run = await runner.run(report.id);
      expect(run).toMatchObject({
        status: 'failed',
        manual: false,
        attempts: 0,
        error: NO_SMTP_ERROR,
      });
    });

    it('runs a report when its job scheduler fires', async () => {
      const report = await createReport(weekly({ recipients: ['fired@example.com'] }));
      // Test-only: a schedule firing every second (the API accepts minute-level crons only).
      await jobs.scheduler.upsert({
        reportId: report.id,
        pattern: '* * * * * *',
        timezone: 'Europe/Berlin',
      });
      try {
        const run = await finished(report.id, (r) => !r.manual);
        expect(run).toMatchObject({ status: 'succeeded', manual: false, attempts: 1 });
        expect(smtp.state.mails.some((m) => m.to.includes('fired@example.com'))).toBe(true);
      } finally {
        await jobs.scheduler.remove(report.id);
      }
    });
  });
});
