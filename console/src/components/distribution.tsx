import type { Form, Metrics } from '../types.ts';

/** One bar per answer with its count and share of those who answered. */
export function Distributions({ form, metrics }: { form: Form; metrics: Metrics }) {
  const keys = Object.keys(metrics.fields);
  if (keys.length === 0)
    return <p class="muted">This form has no choice, boolean or rating fields to chart.</p>;
  const labelOf = (key: string) => form.fields.find((f) => f.key === key)?.label ?? key;
  return (
    <div class="distributions">
      {keys.map((key) => {
        const { answered, counts } = metrics.fields[key]!;
        const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
        return (
          <div key={key} class="distribution">
            <h3>
              {labelOf(key)} <span class="muted">({answered} answered)</span>
            </h3>
            {entries.length === 0 && <p class="muted">No answers yet.</p>}
            <ul>
              {entries.map(([value, count]) => {
                const share = answered > 0 ? count / answered : 0;
                const percent = `${(share * 100).toFixed(1)}%`;
                return (
                  <li key={value}>
                    <span class="bar-label">{value}</span>
                    <span
                      class="bar"
                      role="meter"
                      aria-valuemin={0}
                      aria-valuemax={100}
                      aria-valuenow={Math.round(share * 100)}
                      aria-label={`${value}: ${count}, ${percent}`}
                    >
                      <span style={{ width: percent }} />
                    </span>
                    <span class="bar-value">
                      {count} · {percent}
                    </span>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </div>
  );
}
