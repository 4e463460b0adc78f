/** The export's columns: which fields, in which order (moved with buttons, so by keyboard too). */
export function FieldPicker({
  all,
  chosen,
  onChange,
}: {
  all: string[];
  chosen: string[];
  onChange(next: string[]): void;
}) {
  const move = (index: number, by: number) => {
    const next = [...chosen];
    const [item] = next.splice(index, 1);
    next.splice(index + by, 0, item!);
    onChange(next);
  };
  const toggle = (key: string, on: boolean) =>
    onChange(on ? [...chosen, key] : chosen.filter((k) => k !== key));
  return (
    <fieldset>
      <legend>Fields and their order</legend>
      <p class="hint">
        Columns <code>id</code>, <code>submitted_at</code> and <code>completed</code> always come
        first.
      </p>
      <ol class="picker">
        {chosen.map((key, index) => (
          <li key={key}>
            <label>
              <input type="checkbox" checked onChange={() => toggle(key, false)} /> {key}
            </label>
            <span class="buttons">
              <button
                type="button"
                class="small"
                disabled={index === 0}
                onClick={() => move(index, -1)}
                aria-label={`Move ${key} up`}
              >
                ↑
              </button>
              <button
                type="button"
                class="small"
                disabled={index === chosen.length - 1}
                onClick={() => move(index, 1)}
                aria-label={`Move ${key} down`}
              >
                ↓
              </button>
            </span>
          </li>
        ))}
      </ol>
      {all.some((key) => !chosen.includes(key)) && (
        <ul class="picker off">
          {all
            .filter((key) => !chosen.includes(key))
            .map((key) => (
              <li key={key}>
                <label>
                  <input type="checkbox" checked={false} onChange={() => toggle(key, true)} /> {key}
                </label>
              </li>
            ))}
        </ul>
      )}
    </fieldset>
  );
}
