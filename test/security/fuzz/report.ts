import type { Violation } from './properties.ts';
import type { Answer, BuiltRequest } from './request.ts';

interface Row {
  operation: string;
  input: string;
  property: string;
  status: number;
  code: string;
  count: number;
  sample: string;
}

/** Collects failures by (operation, input class, property, status, code) and the statuses seen per operation. */
export class FailureTable {
  private readonly rows = new Map<string, Row>();
  private readonly statuses = new Map<string, Map<number, number>>();

  /** Counts an answer's status for the coverage summary. */
  see(operation: string, answer: Answer): void {
    const byStatus = this.statuses.get(operation) ?? new Map<number, number>();
    byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    this.statuses.set(operation, byStatus);
  }

  add(operation: string, req: BuiltRequest, violation: Violation): void {
    const key = [operation, req.label, violation.property, violation.status, violation.code].join(
      '\u0001',
    );
    const row = this.rows.get(key);
    if (row) row.count++;
    else
      this.rows.set(key, {
        operation,
        input: req.label,
        property: violation.property,
        status: violation.status,
        code: violation.code,
        count: 1,
        sample: `${req.method} ${req.path.slice(0, 80)}: ${violation.detail}`,
      });
  }

  get size(): number {
    return this.rows.size;
  }

  /** A Markdown table of the distinct failures, grouped by property then code, then the status counts per operation. */
  render(): string {
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 160);
    const rows = [...this.rows.values()].sort(
      (a, b) =>
        a.property.localeCompare(b.property) ||
        a.code.localeCompare(b.code) ||
        a.operation.localeCompare(b.operation) ||
        a.input.localeCompare(b.input),
    );
    const lines = [
      `${rows.length} distinct failures`,
      '',
      '| property | status | code | operation | input | n | sample |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.property} | ${r.status} | ${cell(r.code)} | ${r.operation} | ${cell(r.input)} | ${r.count} | ${cell(r.sample)} |`,
      ),
      '',
      'statuses seen per operation:',
      ...[...this.statuses].map(
        ([op, s]) =>
          `  ${op}: ${[...s]
            .sort((a, b) => a[0] - b[0])
            .map(([st, n]) => `${st}x${n}`)
            .join(' ')}`,
      ),
    ];
    return lines.join('\n');
  }
}
