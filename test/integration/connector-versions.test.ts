import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileConnectorVersions } from '../../src/integrations/index.ts';
import { loadPlugin, PluginRegistry } from '../../src/plugins/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const logger = pino({ level: 'silent' });

/** A connector module `versioned` at `version`, with `schema` and an optional migrateConfig body. */
function pluginSource(version: string, schema: object, migrate?: string): string {
  return `export default class Versioned {
  metadata = { id: 'versioned', name: 'Versioned', version: '${version}',
    configSchema: ${JSON.stringify(schema)} };
  ${migrate ? `migrateConfig(config, fromVersion) { ${migrate} }` : ''}
  async onResponseSubmitted() {}
}
`;
}

const V1_SCHEMA = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: { url: { type: 'string' }, token: { type: 'string', writeOnly: true } },
};
const ENDPOINT_SCHEMA = {
  type: 'object',
  required: ['endpoint'],
  additionalProperties: false,
  properties: { endpoint: { type: 'string' }, token: { type: 'string', writeOnly: true } },
};

describe('connector versions: recorded at creation, checked when the connector changes', () => {
  let dir: string;
  let hub: TestHub;
  let key: string;
  let integrationId: string;
  /** The registry a start-up with this version of `versioned` would load. */
  const registryWith = async (name: string, source: string) => {
    const file = join(dir, `${name}.js`);
    writeFileSync(file, source);
    const registry = new PluginRegistry();
    registry.add(await loadPlugin(file));
    return registry;
  };
  const reconcile = (registry: PluginRegistry) =>
    reconcileConnectorVersions(hub.db, registry, hub.services.secrets, logger);
  const get = async () =>
    (
      await hub.request({ method: 'GET', url: `/api/v2/integrations/${integrationId}`, key })
    ).json();
  const storedConfig = async () => {
    const { rows } = await hub.db.query<{ config_sealed: string }>(
      'SELECT config_sealed FROM integrations WHERE id = $1',
      [integrationId],
    );
    return hub.services.secrets.openJson<Record<string, unknown>>(rows[0]!.config_sealed);
  };
  const events = async () =>
    (
      await hub.db.query<{ type: string; reason: string | null }>(
        'SELECT type, reason FROM operational_events WHERE integration_id = $1 ORDER BY created_at',
        [integrationId],
      )
    ).rows;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-versions-'));
    const pluginsDir = join(dir, 'plugins');
    mkdirSync(join(pluginsDir, 'versioned'), { recursive: true });
    writeFileSync(join(pluginsDir, 'versioned', 'index.js'), pluginSource('1.0.0', V1_SCHEMA));
    writeFileSync(join(pluginsDir, 'versioned', 'package.json'), '{"type":"module"}\n');
    hub = await startHub({ PLUGINS_DIR: pluginsDir });
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'F', fields: [{ key: 'name', type: 'text' }] },
    });
    const created = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${form.json().id}/integrations`,
      key,
      payload: {
        connector: 'versioned',
        config: { url: 'https://example.com/in', token: 'tok-secret-1' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    integrationId = created.json().id;
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the version it was created with, and lists the connector with its source', async () => {
    expect(await get()).toMatchObject({
      status: 'active',
      connector_version: '1.0.0',
      needs_update_reason: null,
    });
    const connectors = (await hub.request({ method: 'GET', url: '/api/v2/connectors', key })).json()
      .data as Record<string, unknown>[];
    expect(connectors.find((c) => c.id === 'versioned')).toMatchObject({
      version: '1.0.0',
      source: 'plugins_dir',
      package: null,
    });
    expect(connectors.find((c) => c.id === 'slack')).toMatchObject({ source: 'builtin' });
  });

  it('a move within the major line is recorded without touching the config', async () => {
    const report = await reconcile(await registryWith('v1-2', pluginSource('1.2.0', V1_SCHEMA)));
    expect(report).toEqual({ recorded: 1, upgraded: 0, needsUpdate: [] });
    expect(await get()).toMatchObject({ status: 'active', connector_version: '1.2.0' });
    // Nothing to do the second time.
    const again = await reconcile(await registryWith('v1-2b', pluginSource('1.2.0', V1_SCHEMA)));
    expect(again).toEqual({ recorded: 0, upgraded: 0, needsUpdate: [] });
  });

  it("a new major version's migrateConfig hook upgrades the config, secrets kept sealed", async () => {
    const v2 = pluginSource(
      '2.0.0',
      ENDPOINT_SCHEMA,
      `if (!fromVersion.startsWith('1.')) return config;
       const { url, ...rest } = config; return { ...rest, endpoint: url };`,
    );
    const report = await reconcile(await registryWith('v2', v2));
    expect(report).toEqual({ recorded: 0, upgraded: 1, needsUpdate: [] });
    const got = await get();
    expect(got).toMatchObject({ status: 'active', connector_version: '2.0.0' });
    expect(JSON.stringify(got)).not.toContain('tok-secret-1');
    expect(await storedConfig()).toEqual({
      endpoint: 'https://example.com/in',
      token: 'tok-secret-1',
    });
  });

  it('a new major version that refuses the config marks it needs_update, reported once', async () => {
    const v3Schema = { ...ENDPOINT_SCHEMA, required: ['endpoint', 'region'] };
    const v3 = pluginSource('3.0.0', {
      ...v3Schema,
      properties: { ...ENDPOINT_SCHEMA.properties, region: { type: 'string' } },
    });
    const report = await reconcile(await registryWith('v3', v3));
    expect(report.needsUpdate).toHaveLength(1);
    const got = await get();
    expect(got).toMatchObject({
      status: 'needs_update',
      active: false,
      connector_version: '2.0.0',
    });
    expect(got.needs_update_reason).toBe(
      "versioned 2.0.0 -> 3.0.0: the config no longer validates (config.region must have required property 'region')",
    );
    expect(got.disabled_reason).toBe(`needs update: ${got.needs_update_reason}`);
    expect(JSON.stringify(got)).not.toContain('tok-secret-1');
    // Reported to notification channels as integration.disabled, with the reason.
    expect(await events()).toEqual([
      { type: 'integration.disabled', reason: `needs update: ${got.needs_update_reason}` },
    ]);
    // The next start finds the same: no second event, nothing changed.
    await reconcile(await registryWith('v3b', v3));
    expect(await events()).toHaveLength(1);
    expect(await storedConfig()).toEqual({
      endpoint: 'https://example.com/in',
      token: 'tok-secret-1',
    });
  });

  it('a migrateConfig hook that throws leaves it needs_update with the hook named', async () => {
    const v4 = pluginSource('4.0.0', ENDPOINT_SCHEMA, `throw new Error('cannot map region');`);
    await reconcile(await registryWith('v4', v4));
    expect((await get()).needs_update_reason).toBe(
      'versioned 2.0.0 -> 4.0.0: its migrateConfig hook failed: cannot map region',
    );
  });

  it('a later version that accepts the config again turns it back on', async () => {
    const v5 = pluginSource('5.0.0', ENDPOINT_SCHEMA);
    const report = await reconcile(await registryWith('v5', v5));
    expect(report.upgraded).toBe(1);
    expect(await get()).toMatchObject({
      status: 'active',
      active: true,
      connector_version: '5.0.0',
      needs_update_reason: null,
      disabled_reason: null,
    });
  });
});
