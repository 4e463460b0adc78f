import { presentPolicy } from './delivery-policy.ts';
import type { IntegrationRow } from './queries.ts';

/** An integration of any connector; `config` comes without its writeOnly (secret) properties. */
export function presentIntegration(row: IntegrationRow, publicConfig: Record<string, unknown>) {
  const status: 'active' | 'disabled' | 'needs_update' = row.needs_update_reason
    ? 'needs_update'
    : row.active
      ? 'active'
      : 'disabled';
  return {
    id: row.id,
    form_id: row.form_id,
    connector: row.connector,
    config: publicConfig,
    events: row.events,
    connection_id: row.connection_id,
    provider_config_key: row.provider_config_key,
    active: row.active,
    disabled_reason: row.disabled_reason,
    status,
    needs_update_reason: row.needs_update_reason,
    connector_version: row.connector_version,
    condition: row.condition,
    ...presentPolicy(row),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
