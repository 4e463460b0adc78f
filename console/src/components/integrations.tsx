import { isMissingRoute, json } from '../api.ts';
import type { Form, Integration, Page, Webhook } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { ConditionEditor } from './condition-editor.tsx';
import { DeliveryHealth } from './delivery-health.tsx';
import { ErrorNote, Loading, Section, Unavailable } from './feedback.tsx';

const state = (item: { active: boolean; disabled_reason: string | null }) =>
  item.active ? 'active' : `disabled${item.disabled_reason ? `: ${item.disabled_reason}` : ''}`;

/** The form's webhooks and connector integrations with their delivery health. */
export function Integrations({ form }: { form: Form }) {
  const webhooks = useLoad(
    () => json<Page<Webhook>>(`/forms/${form.id}/webhooks?limit=100`),
    [form.id],
  );
  const integrations = useLoad(
    () => json<Page<Integration>>(`/forms/${form.id}/integrations?limit=100`),
    [form.id],
  );
  const connectors = integrations.data?.data.filter((i) => i.connector !== 'webhook') ?? [];
  return (
    <>
      <Section title="Webhooks" id="h-webhooks">
        {isMissingRoute(webhooks.error) ? (
          <Unavailable what="Webhooks" />
        ) : (
          <ErrorNote error={webhooks.error} />
        )}
        {!webhooks.data && !webhooks.error && <Loading what="webhooks" />}
        {webhooks.data?.data.length === 0 && <p class="muted">No webhooks on this form.</p>}
        {webhooks.data?.data.map((hook) => (
          <article key={hook.id} class="integration">
            <h3>{hook.url}</h3>
            <p class="muted">
              {hook.events.join(', ')} · {state(hook)}
            </p>
            <ConditionEditor
              base="/webhooks"
              id={hook.id}
              form={form}
              condition={hook.condition}
              onSaved={webhooks.reload}
            />
            <DeliveryHealth base="/webhooks" id={hook.id} name={hook.url} />
          </article>
        ))}
      </Section>
      <Section title="Connector integrations" id="h-connectors">
        {isMissingRoute(integrations.error) ? (
          <Unavailable what="Connector integrations" flag="FEATURE_CONNECTORS" />
        ) : (
          <ErrorNote error={integrations.error} />
        )}
        {!integrations.data && !integrations.error && <Loading what="integrations" />}
        {integrations.data && connectors.length === 0 && (
          <p class="muted">No connector integrations on this form.</p>
        )}
        {connectors.map((integration) => (
          <article key={integration.id} class="integration">
            <h3>{integration.connector}</h3>
            <p class="muted">
              {integration.events.join(', ')} · {state(integration)}
            </p>
            <ConditionEditor
              base="/integrations"
              id={integration.id}
              form={form}
              condition={integration.condition}
              onSaved={integrations.reload}
            />
            <DeliveryHealth base="/integrations" id={integration.id} name={integration.connector} />
          </article>
        ))}
      </Section>
    </>
  );
}
