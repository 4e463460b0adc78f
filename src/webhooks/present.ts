import { maskHeaders, presentPolicy, type IntegrationRow } from '../integrations/index.ts';

/** A webhook as the API shows it: never its secret, and its header values masked. */
export function presentWebhook(row: IntegrationRow, config: Record<string, unknown>) {
  return {
    id: row.id,
    form_id: row.form_id,
    url: String(config.url ?? ''),
    events: row.events,
    template: config.template ?? null,
    headers: maskHeaders(config.headers),
    active: row.active,
    disabled_reason: row.disabled_reason,
    condition: row.condition,
    ...presentPolicy(row),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
