import type { ResponseRow } from '../types.ts';

const preview = (data: Record<string, unknown>) =>
  Object.entries(data)
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join(' · ');

/** The latest responses, newest first. */
export function Latest({ rows }: { rows: ResponseRow[] }) {
  if (rows.length === 0) return <p class="muted">No responses yet.</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">The latest {rows.length} responses</caption>
        <thead>
          <tr>
            <th scope="col">Submitted (UTC)</th>
            <th scope="col">Status</th>
            <th scope="col">Answers</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>
                <time dateTime={row.submitted_at}>
                  {row.submitted_at.replace('T', ' ').slice(0, 19)}
                </time>
              </td>
              <td>{row.completed ? 'completed' : 'partial'}</td>
              <td>{preview(row.data)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
