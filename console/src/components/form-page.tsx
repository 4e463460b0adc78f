import { useEffect, useRef } from 'preact/hooks';
import { json } from '../api.ts';
import { followLink, pathOf, type Route } from '../router.ts';
import type { Form } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { Dashboard } from './dashboard.tsx';
import { ExportWizard } from './export-wizard.tsx';
import { ErrorNote, Loading } from './feedback.tsx';
import { Integrations } from './integrations.tsx';

type FormRoute = Extract<Route, { formId: string }>;

const TABS: { name: FormRoute['name']; label: string }[] = [
  { name: 'dashboard', label: 'Dashboard' },
  { name: 'export', label: 'Export' },
  { name: 'integrations', label: 'Integrations' },
];

/** One form: its title, tabs (dashboard, export wizard, integrations) and the chosen tab. */
export function FormPage({ route }: { route: FormRoute }) {
  const form = useLoad(() => json<Form>(`/forms/${route.formId}`), [route.formId]);
  const heading = useRef<HTMLHeadingElement>(null);
  // Moves focus to the heading on navigation, so keyboard and screen-reader users land on the new page.
  useEffect(() => heading.current?.focus(), [route.name, form.data?.id]);
  return (
    <main id="main">
      <p>
        <a href={pathOf({ name: 'forms' })} onClick={followLink}>
          ← All forms
        </a>
      </p>
      {form.error !== undefined && <ErrorNote error={form.error} />}
      {!form.data && !form.error && <Loading what="the form" />}
      {form.data && (
        <>
          <h1 tabIndex={-1} ref={heading}>
            {form.data.title}
          </h1>
          <nav class="tabs" aria-label="Form sections">
            {TABS.map((tab) => (
              <a
                key={tab.name}
                href={pathOf({ name: tab.name, formId: route.formId })}
                onClick={followLink}
                aria-current={tab.name === route.name ? 'page' : undefined}
              >
                {tab.label}
              </a>
            ))}
          </nav>
          {route.name === 'dashboard' && <Dashboard form={form.data} />}
          {route.name === 'export' && <ExportWizard form={form.data} />}
          {route.name === 'integrations' && <Integrations form={form.data} />}
        </>
      )}
    </main>
  );
}
