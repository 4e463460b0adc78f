import { useState } from 'preact/hooks';
import { json } from '../api.ts';
import { buildFilter, describeFilter, rowsFromFilter, type FilterRow } from '../filter.ts';
import type { Form } from '../types.ts';
import { ErrorNote } from './feedback.tsx';
import { FilterRows } from './filter-rows.tsx';

type Condition = Record<string, unknown> | null;

/**
 * An integration's condition (DESIGN.md section 4a): shown in words, edited as rows of
 * field, operator and value (or as JSON when it uses $or/$not), saved with PATCH; the hub
 * validates it and its 422 is shown as is. Clearing it sends `null` (every event).
 */
export function ConditionEditor({
  base,
  id,
  form,
  condition,
  onSaved,
}: {
  base: '/webhooks' | '/integrations';
  id: string;
  form: Form;
  condition: Condition;
  onSaved(): void;
}) {
  const [editing, setEditing] = useState(false);
  const [rows, setRows] = useState<FilterRow[]>([]);
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const paths = ['submitted_at', 'completed', ...form.fields.map((f) => `data.${f.key}`)];

  const open = () => {
    const asRows = rowsFromFilter(condition);
    setRows(asRows ?? []);
    // A condition rows cannot show is edited as JSON, never silently simplified.
    setText(asRows === null ? JSON.stringify(condition, null, 2) : null);
    setError(undefined);
    setEditing(true);
  };

  const save = async (next: Condition | undefined) => {
    setBusy(true);
    setError(undefined);
    try {
      await json(`${base}/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ condition: next ?? null }),
      });
      setEditing(false);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    try {
      void save(text === null ? buildFilter(rows, form.fields) : (JSON.parse(text) as Condition));
    } catch (e) {
      setError(e);
    }
  };

  if (!editing)
    return (
      <p class="condition">
        Condition: <span data-condition>{describeFilter(condition)}</span>{' '}
        <button type="button" class="small" onClick={open}>
          Edit condition
        </button>
      </p>
    );
  return (
    <form class="condition-form" onSubmit={submit}>
      {text === null ? (
        <FilterRows
          paths={paths}
          rows={rows}
          onChange={setRows}
          legend="Condition (every row must match)"
          empty="No condition: every event is delivered."
        />
      ) : (
        <label>
          Condition (DSL JSON)
          <textarea rows={6} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      )}
      <ErrorNote error={error} />
      <div class="row">
        <button type="submit" disabled={busy}>
          Save condition
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void save(null)}>
          Clear condition
        </button>
        <button type="button" class="secondary" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
