import { json } from '../api.ts';
import { followLink, pathOf } from '../router.ts';
import type { Form, Page } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { ErrorNote, Loading } from './feedback.tsx';

/** The workspace's forms, each linking to its dashboard, export wizard and integrations. */
export function FormsList() {
  const forms = useLoad(() => json<Page<Form>>('/forms?limit=200'), []);
  return (
    <main id="main">
      <h1>Forms</h1>
      {forms.loading && !forms.data && <Loading what="forms" />}
      <ErrorNote error={forms.error} />
      {forms.data && forms.data.data.length === 0 && (
        <p class="muted">This workspace has no forms yet.</p>
      )}
      <ul class="form-list">
        {forms.data?.data.map((form) => (
          <li key={form.id} class="card">
            <h2>
              <a href={pathOf({ name: 'dashboard', formId: form.id })} onClick={followLink}>
                {form.title}
              </a>
            </h2>
            <p class="muted">
              {form.status} · version {form.version} · {form.fields.length} fields
            </p>
            <p class="links">
              <a
                href={pathOf({ name: 'export', formId: form.id })}
                onClick={followLink}
                aria-label={`Export ${form.title}`}
              >
                Export
              </a>
              <a
                href={pathOf({ name: 'integrations', formId: form.id })}
                onClick={followLink}
                aria-label={`Integrations of ${form.title}`}
              >
                Integrations
              </a>
            </p>
          </li>
        ))}
      </ul>
    </main>
  );
}
