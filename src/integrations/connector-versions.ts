import type { Logger } from 'pino';
import type { Queryable } from '../db/index.ts';
import { versionChange, type LoadedPlugin, type PluginRegistry } from '../plugins/index.ts';
import type { SecretBox } from '../secrets/index.ts';

/** What one start-up's check of connector versions did. */
export interface VersionReport {
  /** Integrations that had no version recorded (created before versions were) or moved within a major line. */
  recorded: number;
  /** Integrations whose connector changed major version and whose config (migrated if the connector can) still validates. */
  upgraded: number;
  /** Integrations marked needs_update, with why. */
  needsUpdate: { id: string; connector: string; reason: string }[];
}

interface VersionRow {
  id: string;
  connector: string;
  connector_version: string | null;
}

/** The longest needs_update reason kept; the rest of a long list of problems is cut. */
const REASON_MAX = 500;

/**
 * Compares every live integration's recorded connector version with the loaded connector's
 * (docs/plugins.md, "Versions"). No version recorded, or a move within the same major line:
 * the running version is recorded. A new major version: the connector's `migrateConfig`
 * hook (if it has one) upgrades the config, which must then validate against the new
 * schema: valid, the config and version are stored (re-sealed) and deliveries go on;
 * invalid, the integration is turned off with `needs_update_reason` (and a
 * `disabled_reason`, which reports `integration.disabled` to notification channels) until a
 * PATCH gives it a config that validates. An integration whose connector is not loaded is
 * left as it is. Each write is conditional on the version read, so two processes starting
 * together do the work once.
 */
export async function reconcileConnectorVersions(
  db: Queryable,
  plugins: PluginRegistry,
  secrets: SecretBox,
  logger: Logger,
): Promise<VersionReport> {
  const report: VersionReport = { recorded: 0, upgraded: 0, needsUpdate: [] };
  const loadedIds = plugins.list().map((p) => p.metadata.id);
  const loadedVersions = plugins.list().map((p) => p.metadata.version);
  // Only the integrations of a loaded connector whose recorded version is not the running one.
  const { rows } = await db.query<VersionRow>(
    `SELECT i.id, i.connector, i.connector_version FROM integrations i
     JOIN unnest($1::text[], $2::text[]) AS v(connector, version) ON v.connector = i.connector
     WHERE i.deleted_at IS NULL AND i.connector_version IS DISTINCT FROM v.version`,
    [loadedIds, loadedVersions],
  );
  for (const row of rows) {
    const loaded = plugins.get(row.connector);
    if (!loaded) continue;
    const current = loaded.metadata.version;
    const change =
      row.connector_version === null ? 'compatible' : versionChange(row.connector_version, current);
    if (change === 'same') continue;
    if (change === 'compatible') {
      await db.query(
        `UPDATE integrations SET connector_version = $2
         WHERE id = $1 AND connector_version IS NOT DISTINCT FROM $3`,
        [row.id, current, row.connector_version],
      );
      report.recorded += 1;
      continue;
    }
    const from = row.connector_version!;
    const sealed = await db.query<{ config_sealed: string }>(
      'SELECT config_sealed FROM integrations WHERE id = $1',
      [row.id],
    );
    if (!sealed.rows[0]) continue;
    const config = secrets.openJson<Record<string, unknown>>(sealed.rows[0].config_sealed);
    const checked = await upgradedConfig(loaded, config, from);
    const where = { integration: row.id, connector: row.connector, from, to: current };
    if (checked.ok) {
      await db.query(
        `UPDATE integrations SET config_sealed = $2, connector_version = $3, updated_at = now(),
           active = CASE WHEN needs_update_reason IS NOT NULL THEN true ELSE active END,
           disabled_reason = CASE WHEN needs_update_reason IS NOT NULL THEN NULL ELSE disabled_reason END,
           needs_update_reason = NULL
         WHERE id = $1 AND connector_version = $4`,
        [row.id, secrets.sealJson(checked.config), current, from],
      );
      report.upgraded += 1;
      logger.info(where, 'integration config upgraded to a new major version of its connector');
      continue;
    }
    const reason = `${row.connector} ${from} -> ${current}: ${checked.problem}`.slice(
      0,
      REASON_MAX,
    );
    await db.query(
      `UPDATE integrations SET needs_update_reason = $2, active = false,
         disabled_reason = 'needs update: ' || $2, updated_at = now()
       WHERE id = $1 AND connector_version = $3 AND needs_update_reason IS DISTINCT FROM $2`,
      [row.id, reason, from],
    );
    report.needsUpdate.push({ id: row.id, connector: row.connector, reason });
    logger.warn(
      { ...where, reason },
      'integration needs an update: its config no longer validates',
    );
  }
  return report;
}

/** The config as the new major version wants it (its migrateConfig hook applied), or why not. */
async function upgradedConfig(
  loaded: LoadedPlugin,
  config: Record<string, unknown>,
  fromVersion: string,
): Promise<{ ok: true; config: Record<string, unknown> } | { ok: false; problem: string }> {
  let upgraded = config;
  if (typeof loaded.plugin.migrateConfig === 'function') {
    try {
      upgraded = await loaded.plugin.migrateConfig(structuredClone(config), fromVersion);
    } catch (error) {
      return { ok: false, problem: `its migrateConfig hook failed: ${(error as Error).message}` };
    }
    if (typeof upgraded !== 'object' || upgraded === null || Array.isArray(upgraded)) {
      return { ok: false, problem: 'its migrateConfig hook did not return a config object' };
    }
  }
  if (loaded.validateConfig(upgraded)) return { ok: true, config: upgraded };
  const problems = (loaded.validateConfig.errors ?? []).map((e) => {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    return `config${e.instancePath.replace(/\//g, '.')}${missing ? `.${missing}` : ''} ${e.message ?? 'is not valid'}`;
  });
  return { ok: false, problem: `the config no longer validates (${problems.join('; ')})` };
}
