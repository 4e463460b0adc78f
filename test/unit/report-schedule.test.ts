import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { csvCell, reportFilename } from '../../src/reports/schedule/csv-report-renderer.ts';
import { isTransientMailError } from '../../src/reports/schedule/mailer.ts';
import { reportPeriod } from '../../src/reports/schedule/period.ts';
import {
  canonicalTimezone,
  cronProblem,
  FREQUENCY_PATTERNS,
  nextRunAt,
  patternOf,
} from '../../src/reports/schedule/schedule.ts';
import { formatInZone, reportSummary } from '../../src/reports/schedule/summary.ts';

/** The next `count` firings after `from`, as BullMQ's job scheduler computes them. */
function firings(pattern: string, timezone: string, from: string, count: number): string[] {
  const out: string[] = [];
  let at = new Date(from);
  for (let i = 0; i < count; i++) {
    at = nextRunAt(pattern, timezone, at)!;
    out.push(at.toISOString());
  }
  return out;
}

describe('report schedules across daylight-saving changes', () => {
  it('fires "weekly Monday 09:00 Europe/Berlin" at 09:00 Berlin time over CEST -> CET (2026-10-25)', () => {
    expect(firings(FREQUENCY_PATTERNS.weekly, 'Europe/Berlin', '2026-10-12T12:00:00Z', 3)).toEqual([
      '2026-10-19T07:00:00.000Z', // CEST, UTC+2
      '2026-10-26T08:00:00.000Z', // CET, UTC+1
      '2026-11-02T08:00:00.000Z',
    ]);
  });

  it('fires at 09:00 Berlin time over CET -> CEST (2027-03-28)', () => {
    expect(firings('0 9 * * 1', 'Europe/Berlin', '2027-03-15T12:00:00Z', 3)).toEqual([
      '2027-03-22T08:00:00.000Z', // CET
      '2027-03-29T07:00:00.000Z', // CEST
      '2027-04-05T07:00:00.000Z',
    ]);
  });

  it('agrees with cron-parser, the library BullMQ uses, called directly', () => {
    const interval = CronExpressionParser.parse('0 9 * * 1', {
      tz: 'Europe/Berlin',
      currentDate: new Date('2026-10-12T12:00:00Z'),
    });
    const direct = [interval.next(), interval.next()].map((d) => d.toISOString());
    expect(direct).toEqual(['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
    for (const at of firings('0 9 * * 1', 'Europe/Berlin', '2026-10-12T12:00:00Z', 2)) {
      expect(formatInZone(new Date(at), 'Europe/Berlin')).toMatch(/ 09:00$/);
    }
  });

  it('keeps daily and monthly presets at 09:00 local time too', () => {
    expect(firings(FREQUENCY_PATTERNS.daily, 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T08:00:00.000Z', // the day of the change: already CET at 09:00
      '2026-10-26T08:00:00.000Z',
    ]);
    expect(
      firings(FREQUENCY_PATTERNS.monthly, 'America/New_York', '2027-02-15T00:00:00Z', 2),
    ).toEqual([
      '2027-03-01T14:00:00.000Z', // EST
      '2027-04-01T13:00:00.000Z', // EDT
    ]);
  });
});

describe('schedule validation', () => {
  it('accepts IANA timezones, canonicalised, and refuses others', () => {
    expect(canonicalTimezone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimezone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimezone('UTC')).toBe('UTC');
    expect(canonicalTimezone('Mars/Olympus_Mons')).toBeUndefined();
    expect(canonicalTimezone('')).toBeUndefined();
  });

  it('accepts five-field crons and explains the rest', () => {
    expect(cronProblem('0 9 * * 1')).toBeUndefined();
    expect(cronProblem('*/15 8-18 * * 1-5')).toBeUndefined();
    expect(cronProblem('0 9 * *')).toMatch(/five fields/);
    expect(cronProblem('* * * * * *')).toMatch(/five fields/);
    expect(cronProblem('61 9 * * 1')).toMatch(/not a valid cron expression/);
    expect(cronProblem('0 9 * * funday')).toMatch(/not a valid cron expression/);
  });

  it('uses the cron, else the frequency preset', () => {
    expect(patternOf({ cron: '5 4 * * *', frequency: null })).toBe('5 4 * * *');
    expect(patternOf({ cron: null, frequency: 'monthly' })).toBe('0 9 1 * *');
  });
});

describe('report periods', () => {
  const now = new Date('2026-11-30T08:00:00Z');

  it('runs from the last successful run', () => {
    const last = new Date('2026-11-23T08:00:00Z');
    expect(reportPeriod(last, 'weekly', now)).toEqual({ start: last, end: now });
  });

  it("covers the frequency's period on a first run, a week for cron", () => {
    expect(reportPeriod(null, 'daily', now).start.toISOString()).toBe('2026-11-29T08:00:00.000Z');
    expect(reportPeriod(null, 'weekly', now).start.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(reportPeriod(null, 'monthly', now).start.toISOString()).toBe('2026-10-30T08:00:00.000Z');
    expect(reportPeriod(null, null, now).start.toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });
});

describe('report mail and file', () => {
  it('summarises title, period in the timezone and response count', () => {
    const { subject, text } = reportSummary(
      'NPS',
      { start: new Date('2026-10-19T07:00:00Z'), end: new Date('2026-10-26T08:00:00Z') },
      'Europe/Berlin',
      42,
    );
    expect(subject).toBe('Report: NPS (2026-10-26)');
    expect(text).toContain('Form: NPS');
    expect(text).toContain('Period: 2026-10-19 09:00 to 2026-10-26 09:00 (Europe/Berlin)');
    expect(text).toContain('Responses: 42');
  });

  it('writes CSV cells per RFC 4180 with formulas neutralised', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvCell(['a', 'b'])).toBe('a; b');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(reportFilename('Customer NPS — Q4!', new Date('2026-10-26T08:00:00Z'), 'csv')).toBe(
      'customer-nps-q4-2026-10-26.csv',
    );
  });

  it('retries connection errors and 4xx replies, not 5xx', () => {
    expect(
      isTransientMailError(Object.assign(new Error('ECONNREFUSED'), { code: 'ESOCKET' })),
    ).toBe(true);
    expect(isTransientMailError(Object.assign(new Error('451'), { responseCode: 451 }))).toBe(true);
    expect(isTransientMailError(Object.assign(new Error('550'), { responseCode: 550 }))).toBe(
      false,
    );
  });
});
