import type { ReportPeriod } from './period.ts';

/** A time shown to recipients in the report's timezone, e.g. `2026-10-26 09:00 (Europe/Berlin)`. */
export function formatInZone(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** The subject and text body of a report mail: form title, period and response count. */
export function reportSummary(
  title: string,
  period: ReportPeriod,
  timezone: string,
  responses: number,
): { subject: string; text: string } {
  const from = formatInZone(period.start, timezone);
  const to = formatInZone(period.end, timezone);
  return {
    subject: `Report: ${title} (${to.slice(0, 10)})`,
    text: [
      `Form: ${title}`,
      `Period: ${from} to ${to} (${timezone})`,
      `Responses: ${responses}`,
      '',
      'The report is attached.',
      '',
    ].join('\n'),
  };
}
