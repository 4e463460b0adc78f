import { OPERATORS, type FilterRow } from '../filter.ts';

/** The filter as rows of field, operator and value; every row must hold (AND). */
export function FilterRows({
  paths,
  rows,
  onChange,
  legend = 'Filter (every row must match)',
  empty = 'No filter: every live response is exported.',
}: {
  paths: string[];
  rows: FilterRow[];
  onChange(next: FilterRow[]): void;
  legend?: string;
  empty?: string;
}) {
  const update = (index: number, patch: Partial<FilterRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset>
      <legend>{legend}</legend>
      {rows.length === 0 && <p class="hint">{empty}</p>}
      {rows.map((row, index) => (
        <div class="filter-row" key={index}>
          <label>
            <span class="sr-only">Row {index + 1} field</span>
            <select
              value={row.path}
              onChange={(e) => update(index, { path: e.currentTarget.value })}
            >
              {paths.map((path) => (
                <option key={path} value={path}>
                  {path}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span class="sr-only">Row {index + 1} operator</span>
            <select value={row.op} onChange={(e) => update(index, { op: e.currentTarget.value })}>
              {OPERATORS.map(({ op, label }) => (
                <option key={op} value={op}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span class="sr-only">Row {index + 1} value</span>
            <input
              type="text"
              value={row.value}
              onInput={(e) => update(index, { value: e.currentTarget.value })}
              placeholder="value"
            />
          </label>
          <button
            type="button"
            class="small"
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
            aria-label={`Remove filter row ${index + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary"
        onClick={() => onChange([...rows, { path: paths[0] ?? '', op: '$eq', value: '' }])}
      >
        Add a condition
      </button>
    </fieldset>
  );
}
