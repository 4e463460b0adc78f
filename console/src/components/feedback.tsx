import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.ts';

/** An error as the API worded it (or a plain message for anything else). */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code =
    error instanceof ApiError && error.status > 0 ? ` (${error.status} ${error.code})` : '';
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div class="note error" role="alert">
      <p>
        {message}
        {code}
      </p>
      {details.length > 0 && (
        <ul>
          {details.map((d) => (
            <li key={d.field}>
              <code>{d.field}</code>: {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A section whose API this hub does not serve (its feature flag is off, or it is not there). */
export function Unavailable({ what, flag }: { what: string; flag?: string }) {
  return (
    <p class="note muted" role="status">
      {what}: not available on this hub{flag ? ` (it may be turned off with ${flag})` : ''}. The
      rest of the console works as usual.
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Section({
  title,
  children,
  id,
}: {
  title: string;
  children: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
