import { isMissingRoute, json } from '../api.ts';
import type { Form, Integration, Page, Webhook } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { ConditionEditor } from './condition-editor.tsx';
import { DeliveryHealth } from './delivery-health.tsx';
import { ErrorNote, Loading, Section, Unavailable } from './feedback.tsx';

const state = (item: { active: boolean; disabled_reason: string | null }) =>
  item.active ? 'active' : `disabled${item.disabled_reason ? `: ${item.disabled_reason}` : ''}`;

/** One webhook or integration: what it is, its condition, and its delivery health. */
function Card({
  base,
  item,
  title,
  form,
  onSaved,
}: {
  base: '/webhooks' | '/integrations';
  item: Webhook | Integration;
  title: string;
  form: Form;
  onSaved(): void;
}) {
  return (
    <article class="integration">
      <h3>{title}</h3>
      <p class="muted">
        {item.events.join(', ')} · {state(item)}
      </p>
      <ConditionEditor
        base={base}
        id={item.id}
        form={form}
        condition={item.condition}
        onSaved={onSaved}
      />
      <DeliveryHealth base={base} id={item.id} name={title} />
    </article>
  );
}

/**
 * The form's webhooks and connector integrations, then the workspace-wide ones (no
 * `form_id`: they fire for this form too), each with its condition and delivery health.
 */
export function Integrations({ form }: { form: Form }) {
  const webhooks = useLoad(
    () => json<Page<Webhook>>(`/forms/${form.id}/webhooks?limit=100`),
    [form.id],
  );
  const integrations = useLoad(
    () => json<Page<Integration>>(`/forms/${form.id}/integrations?limit=100`),
    [form.id],
  );
  const wideHooks = useLoad(() => json<Page<Webhook>>('/webhooks?limit=100'), []);
  const wideIntegrations = useLoad(() => json<Page<Integration>>('/integrations?limit=100'), []);
  const connectors = integrations.data?.data.filter((i) => i.connector !== 'webhook') ?? [];
  const wide = [
    ...(wideHooks.data?.data ?? [])
      .filter((h) => h.form_id === null)
      .map((item) => ({
        base: '/webhooks' as const,
        item,
        title: item.url,
        reload: wideHooks.reload,
      })),
    ...(wideIntegrations.data?.data ?? [])
      .filter((i) => i.form_id === null && i.connector !== 'webhook')
      .map((item) => ({
        base: '/integrations' as const,
        item,
        title: item.connector,
        reload: wideIntegrations.reload,
      })),
  ];
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
          <Card
            key={hook.id}
            base="/webhooks"
            item={hook}
            title={hook.url}
            form={form}
            onSaved={webhooks.reload}
          />
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
          <Card
            key={integration.id}
            base="/integrations"
            item={integration}
            title={integration.connector}
            form={form}
            onSaved={integrations.reload}
          />
        ))}
      </Section>
      <Section title="Workspace-wide (every form)" id="h-workspace-wide">
        <ErrorNote error={wideHooks.error} />
        {/* Without connectors only the webhooks listing is there: the rest still shows. */}
        {!isMissingRoute(wideIntegrations.error) && <ErrorNote error={wideIntegrations.error} />}
        {!wideHooks.data && !wideHooks.error && <Loading what="workspace-wide integrations" />}
        {wideHooks.data && wide.length === 0 && (
          <p class="muted">No workspace-wide webhooks or integrations.</p>
        )}
        {wide.map(({ base, item, title, reload }) => (
          <Card key={item.id} base={base} item={item} title={title} form={form} onSaved={reload} />
        ))}
      </Section>
    </>
  );
}
