import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { hookFor, type FormEvent } from '@formhub/sdk';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import {
  disableIntegration,
  findIntegrationById,
  markFailing,
  markHealthy,
  type CredentialsResolver,
  type IntegrationRow,
} from '../integrations/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { nextState, outcomeOfError, type AttemptOutcome } from './outcome.ts';
import { createPluginContext } from './plugin-context.ts';
import { claimDelivery, recordAttempt, type DeliveryRow } from './queries.ts';
import type { DeliveryJob, DeliveryQueue } from './queue.ts';

export interface EngineDeps {
  db: Database;
  plugins: PluginRegistry;
  secrets: SecretBox;
  queue: DeliveryQueue;
  config: Config;
  logger: Logger;
  dispatcher: Dispatcher;
  credentials: CredentialsResolver;
  metrics?: DeliveryMetrics;
}

/**
 * Makes one attempt of one delivery: claims it (so a duplicate or stale job does nothing),
 * runs the integration's plugin hook under the attempt timeout, logs the attempt and moves
 * the delivery on (succeeded, failed with the next attempt queued, or dead). A plugin that
 * throws or hangs costs one failed attempt, never the worker.
 */
export class DeliveryEngine {
  constructor(private readonly deps: EngineDeps) {}

  async attempt(job: DeliveryJob): Promise<void> {
    const { db, config } = this.deps;
    // The attempt is bounded by the timeout; the margin covers the log write. A worker
    // that dies holding the lock delays the retry by at most this long.
    const lockMs = config.webhooks.timeoutMs + 10_000;
    const delivery = await claimDelivery(db, job.deliveryId, job.attempt, lockMs);
    if (!delivery) return;
    const integration = await findIntegrationById(db, delivery.integration_id);
    const at = new Date();
    const outcome = await this.run(delivery, integration, job.attempt);
    const now = new Date();
    // The failure clock is written only when it changes: it starts at the first failure and
    // is cleared by a success (the row read above says which), not on every attempt.
    const failingSince =
      outcome.kind === 'success' || !integration
        ? null
        : (integration.failing_since ?? (await markFailing(db, integration.id, now)));
    const next = nextState(outcome, {
      schedule: config.webhooks.retryScheduleMs,
      attemptNumber: job.attempt,
      now,
      failingSince,
    });
    // The integration's state first, so that whoever sees the delivery's new state sees it too.
    if (integration?.failing_since && outcome.kind === 'success') await markHealthy(db, integration.id);
    if (integration && next.disable) {
      await disableIntegration(db, integration.id, next.disable, integration.connector === 'zapier');
    }
    await recordAttempt(db, {
      deliveryId: delivery.id,
      number: job.attempt,
      at,
      statusCode: outcome.statusCode,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
      excerpt: outcome.excerpt,
      manual: job.manual ?? false,
      status: next.status,
      nextAttemptAt: next.nextAttemptAt,
    });
    this.deps.metrics?.recordAttempt(integration?.connector ?? 'unknown', outcome, next.status);
    if (next.nextAttemptAt) {
      const delayMs = next.nextAttemptAt.getTime() - Date.now();
      await this.deps.queue
        .enqueue([{ deliveryId: delivery.id, attempt: job.attempt + 1, delayMs }])
        .catch((error: Error) => this.deps.logger.warn({ err: error.message }, 'retry not queued; the sweeper will'));
    }
  }

  private async run(
    delivery: DeliveryRow,
    integration: (IntegrationRow & { deleted: boolean }) | undefined,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (!integration || integration.deleted || !integration.active) {
      const reason = !integration || integration.deleted ? 'the integration was deleted' : 'the integration is disabled';
      return { kind: 'permanent', statusCode: 0, latencyMs: 0, error: reason, excerpt: null };
    }
    const loaded = this.deps.plugins.get(integration.connector);
    if (!loaded) {
      return outcomeOfError(new Error(`connector "${integration.connector}" is not loaded`), undefined, 0);
    }
    const event = delivery.payload as unknown as FormEvent;
    const hook = hookFor(loaded.plugin, event.type);
    if (!hook) return { kind: 'success', statusCode: 0, latencyMs: 0, error: null, excerpt: null };
    const controller = new AbortController();
    let exchanges: { statusCode: number; excerpt: string }[] = [];
    try {
      const config = this.deps.secrets.openJson<Record<string, unknown>>(integration.config_sealed);
      const { ctx, exchanges: recorded } = createPluginContext({
        event,
        config,
        credentials: await this.deps.credentials(integration, config),
        refresh: () => this.deps.credentials(integration, config, { forceRefresh: true }),
        deliveryId: delivery.id,
        integrationId: integration.id,
        attempt,
        signingSecrets: this.signingSecrets(integration),
        settings: this.settings(),
        dispatcher: this.deps.dispatcher,
        signal: controller.signal,
        logger: this.deps.logger,
      });
      exchanges = recorded;
      // Promise.resolve().then: a hook that throws synchronously or returns no promise
      // is handled like any other.
      const work = Promise.resolve().then(() => hook(event, ctx));
      await withTimeout(work, this.deps.config.webhooks.timeoutMs, controller);
      const last = exchanges[exchanges.length - 1];
      return { kind: 'success', statusCode: last?.statusCode ?? 0, latencyMs: elapsed(), error: null, excerpt: last?.excerpt ?? null };
    } catch (error) {
      return outcomeOfError(error, exchanges[exchanges.length - 1], elapsed());
    }
  }

  private signingSecrets(integration: IntegrationRow): string[] {
    const { secrets } = this.deps;
    const list: string[] = [];
    if (integration.secret_sealed) list.push(secrets.open(integration.secret_sealed));
    const graceOpen = integration.previous_secret_expires_at && integration.previous_secret_expires_at > new Date();
    if (integration.previous_secret_sealed && graceOpen) list.push(secrets.open(integration.previous_secret_sealed));
    return list;
  }

  private settings(): Record<string, string | undefined> {
    const { connectors } = this.deps.config;
    return {
      SLACK_API_URL: connectors.slackApiUrl,
      GOOGLE_API_ROOT_URL: connectors.googleApiRootUrl,
      SALESFORCE_LOGIN_URL: connectors.salesforceLoginUrl,
    };
  }
}

/** Rejects when `work` takes longer than `ms`, aborting the attempt's signal. */
async function withTimeout(work: Promise<void>, ms: number, controller: AbortController): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  work.catch(() => undefined); // a hook that finishes after its timeout must not crash the process
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
