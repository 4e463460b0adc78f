import { isUuid, uuidv7 } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { AppError, notFound, validationFailed, type ErrorDetail } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { generateWebhookSecret } from '@formhub/sdk';
import type { Logger } from 'pino';
import { compileCondition } from './condition.ts';
import { reconcileConnectorVersions, type VersionReport } from './connector-versions.ts';
import { checkPolicy, type PolicyChanges } from './delivery-policy.ts';
import { checkConnection, claimOwnership, type ConnectionClaim } from './connection-ownership.ts';
import { maskHeaders, restoreMaskedHeaders } from './masked-headers.ts';
import { NangoConnections } from './nango-connections.ts';
import * as q from './queries.ts';
import {
  checkEvents,
  checkHeaders,
  checkTemplate,
  checkTemplateBounds,
  checkUrl,
} from './webhook-input.ts';

export interface IntegrationInput {
  connector: string;
  config: Record<string, unknown>;
  /** A Nango connection; null (on update) removes it. */
  connection_id?: string | null | undefined;
  provider_config_key?: string | undefined;
  events?: string[] | undefined;
  active?: boolean | undefined;
  /** A DSL filter an event's response must match to be delivered; null (on update) clears it. */
  condition?: Record<string, unknown> | null | undefined;
  /** `{"schedule": [...]}`: a retry schedule of its own; null (on update) clears it. */
  retry?: unknown;
  /** `{"per_second": n}`: a rate limit of its own; null (on update) clears it. */
  rate_limit?: unknown;
}

/** Connectors whose integrations get a signing secret. */
const SIGNING_CONNECTORS = new Set(['webhook']);
const ROTATION_GRACE_MS = 24 * 3_600_000;

/**
 * Integrations: webhooks, Zapier subscriptions and connector configurations, all one
 * table and one delivery engine. Configs are validated against the connector's schema
 * and sealed (AES-GCM) at rest; secrets are shown once and never returned again.
 */
export class IntegrationService {
  private readonly nango: NangoConnections;

  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
    private readonly plugins: PluginRegistry,
    private readonly secrets: SecretBox,
    private readonly config: Config,
  ) {
    this.nango = new NangoConnections(config);
  }

  /**
   * A new integration of one form, or with `formId` null a workspace-wide one that fires for
   * every form of the workspace (DESIGN.md section 4a); a form of another workspace is a 404.
   */
  async createIntegration(workspaceId: string, formId: string | null, input: IntegrationInput) {
    const form = formId === null ? null : await this.forms.get(workspaceId, formId);
    const config = this.checkConfig(input.connector, input.config, input.events);
    const condition = await this.checkCondition(
      workspaceId,
      form?.id ?? null,
      input.condition ?? null,
    );
    const policy = checkPolicy(input);
    const secret = SIGNING_CONNECTORS.has(input.connector) ? generateWebhookSecret() : undefined;
    const connectionId = input.connection_id ?? null;
    const providerConfigKey = connectionId ? (input.provider_config_key ?? input.connector) : null;
    const claim: ConnectionClaim | undefined =
      connectionId && providerConfigKey
        ? {
            workspaceId,
            connector: input.connector,
            ref: { providerConfigKey, connectionId },
          }
        : undefined;
    const namedByNango = claim ? await checkConnection(this.nango, claim) : false;
    const row = await this.db.transaction(async (tx) => {
      if (claim) await claimOwnership(tx, claim, namedByNango);
      const created = await q.insertIntegration(tx, {
        id: uuidv7(),
        workspaceId,
        formId: form?.id ?? null,
        connector: input.connector,
        events: input.events ? [...new Set(input.events)] : ['response.submitted'],
        configSealed: this.secrets.sealJson(config),
        secretSealed: secret ? this.secrets.seal(secret) : null,
        connectionId,
        providerConfigKey,
        active: input.active ?? true,
        condition,
        connectorVersion: this.plugins.get(input.connector)!.metadata.version,
        now: new Date(),
      });
      return withPolicy(tx, created, policy);
    });
    return { row, secret };
  }

  /** A live integration of the workspace; with `connector`, only of that kind (else 404). */
  async get(workspaceId: string, id: string, connector?: string): Promise<q.IntegrationRow> {
    const row = isUuid(id)
      ? await q.findIntegration(this.db, workspaceId, id, connector)
      : undefined;
    if (!row) throw notFound(connector === 'webhook' ? 'webhook' : 'integration');
    return row;
  }

  /**
   * The workspace's integrations, newest first; with `formId`, only that form's own (a 404
   * when it is not a form of the workspace), workspace-wide ones not included.
   */
  async list(
    workspaceId: string,
    formId: string | undefined,
    connector: string | undefined,
    limit: number,
    beforeId?: string,
    formIds: readonly string[] | null = null,
  ) {
    const form = formId === undefined ? undefined : await this.forms.get(workspaceId, formId);
    return q.listIntegrations(
      this.db.reader,
      workspaceId,
      form?.id,
      connector,
      limit,
      beforeId,
      formIds,
    );
  }

  async update(
    workspaceId: string,
    id: string,
    patch: Partial<IntegrationInput>,
    connector?: string,
  ) {
    const current = await this.get(workspaceId, id, connector);
    const stored = this.openConfig(current);
    const merged = patch.config ? { ...stored, ...patch.config } : stored;
    // Header values read back masked; one sent back masked keeps what is stored.
    if (current.connector === 'webhook' && patch.config?.headers !== undefined) {
      merged.headers = restoreMaskedHeaders(patch.config.headers, stored.headers);
    }
    const events = patch.events ?? current.events;
    const config = this.checkConfig(current.connector, merged, events);
    const condition =
      patch.condition === undefined
        ? current.condition
        : await this.checkCondition(workspaceId, current.form_id, patch.condition);
    const policy = checkPolicy(patch);
    const connectionId =
      patch.connection_id === undefined ? current.connection_id : patch.connection_id;
    const providerConfigKey = connectionId
      ? (patch.provider_config_key ?? current.provider_config_key ?? current.connector)
      : null;
    // Checked on every update that leaves a connection named (turning a refused integration
    // back on included), Nango asked again: updates are rare, a stolen token is not.
    const claim: ConnectionClaim | undefined =
      connectionId && providerConfigKey
        ? { workspaceId, connector: current.connector, ref: { providerConfigKey, connectionId } }
        : undefined;
    const namedByNango = claim ? await checkConnection(this.nango, claim) : false;
    return this.db.transaction(async (tx) => {
      if (claim) await claimOwnership(tx, claim, namedByNango);
      const updated = await q.updateIntegration(tx, current.id, {
        events: [...new Set(events)],
        configSealed: this.secrets.sealJson(config),
        // A valid config clears needs_update (docs/plugins.md, "Versions"): back on unless the patch says off.
        active: patch.active ?? (current.needs_update_reason === null ? current.active : true),
        connectionId,
        providerConfigKey,
        condition,
        connectorVersion: this.plugins.get(current.connector)!.metadata.version,
        now: new Date(),
      });
      return withPolicy(tx, updated, policy);
    });
  }

  /** On start, after plugins load: re-checks integrations whose connector changed version. */
  reconcileConnectorVersions(logger: Logger): Promise<VersionReport> {
    return reconcileConnectorVersions(this.db, this.plugins, this.secrets, logger);
  }

  async delete(workspaceId: string, id: string, connector?: string): Promise<void> {
    const row = await this.get(workspaceId, id, connector);
    await q.softDeleteIntegration(this.db, row.id);
  }

  /** A new signing secret; the old one keeps signing for 24 hours. Shown once. */
  async rotateSecret(workspaceId: string, id: string, connector?: string): Promise<string> {
    const row = await this.get(workspaceId, id, connector);
    if (!SIGNING_CONNECTORS.has(row.connector))
      throw new AppError('conflict', 'this integration does not sign');
    const secret = generateWebhookSecret();
    await q.rotateSecret(
      this.db,
      row.id,
      this.secrets.seal(secret),
      new Date(Date.now() + ROTATION_GRACE_MS),
    );
    return secret;
  }

  /** The integration's config without its secret (writeOnly) properties; a webhook's header values masked. */
  publicConfig(row: q.IntegrationRow): Record<string, unknown> {
    const config = this.openConfig(row);
    for (const key of this.plugins.get(row.connector)?.secretKeys ?? []) delete config[key];
    if (row.connector === 'webhook' && config.headers !== undefined)
      config.headers = maskHeaders(config.headers);
    return config;
  }

  openConfig(row: q.IntegrationRow): Record<string, unknown> {
    return this.secrets.openJson<Record<string, unknown>>(row.config_sealed);
  }

  /**
   * The condition, checked against the form's current fields (a 422 naming the part); a
   * workspace-wide one (`formId` null) against the grammar only, any `data.<key>` allowed.
   */
  private async checkCondition(
    workspaceId: string,
    formId: string | null,
    condition: Record<string, unknown> | null,
  ): Promise<Record<string, unknown> | null> {
    if (condition === null) return null;
    if (formId === null) {
      compileCondition(condition, { fields: [], calculatedKeys: [], openKeys: true });
      return condition;
    }
    const form = await this.forms.get(workspaceId, formId);
    compileCondition(condition, {
      fields: form.fields,
      calculatedKeys: form.calculated_fields.map((c) => c.key),
    });
    return condition;
  }

  private checkConfig(
    connector: string,
    config: Record<string, unknown>,
    events: unknown,
  ): Record<string, unknown> {
    const plugin = this.plugins.get(connector);
    if (!plugin) {
      throw validationFailed('unknown connector', [
        { field: 'connector', message: `no connector "${connector}"` },
      ]);
    }
    const details: ErrorDetail[] = [];
    if (events !== undefined) checkEvents(events, 'events', details);
    const cleaned = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
    if (!plugin.validateConfig(cleaned)) {
      for (const e of plugin.validateConfig.errors ?? []) {
        const missing = (e.params as { missingProperty?: string }).missingProperty;
        const path = `config${e.instancePath.replace(/\//g, '.')}${missing ? `.${missing}` : ''}`;
        details.push({ field: path, message: e.message ?? 'is not valid' });
      }
    }
    if (connector === 'webhook' || connector === 'zapier')
      this.checkTarget(connector, cleaned, details);
    else checkTemplateBounds(cleaned, 'config', details);
    if (details.length > 0) throw validationFailed('the integration breaks the rules', details);
    return cleaned;
  }

  private checkTarget(
    connector: string,
    config: Record<string, unknown>,
    details: ErrorDetail[],
  ): void {
    const allowPrivate = this.config.webhooks.allowPrivateTargets;
    if (connector === 'zapier') {
      config.target_url = checkUrl(config.target_url, 'target_url', allowPrivate, details);
      return;
    }
    config.url = checkUrl(config.url, 'url', allowPrivate, details);
    if (config.template === null) delete config.template; // null removes the template
    if (config.template !== undefined) checkTemplate(config.template, 'template', details);
    config.headers = checkHeaders(config.headers, 'headers', details);
  }
}

/** The row with the policy the body set, written in the same transaction (nothing to write: as is). */
function withPolicy(
  tx: Queryable,
  row: q.IntegrationRow,
  policy: PolicyChanges,
): Promise<q.IntegrationRow> | q.IntegrationRow {
  return policy.retry === undefined && policy.ratePerSecond === undefined
    ? row
    : q.setDeliveryPolicy(tx, row.id, policy);
}
