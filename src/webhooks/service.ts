import type {
  IntegrationInput,
  IntegrationRow,
  IntegrationService,
} from '../integrations/index.ts';
import { presentWebhook } from './present.ts';

/** The body of `POST /forms/:id/webhooks` (and a webhook integration's config). */
export interface WebhookInput {
  url: string;
  events?: string[] | undefined;
  template?: unknown;
  headers?: Record<string, string> | undefined;
  active?: boolean | undefined;
  condition?: Record<string, unknown> | null | undefined;
  retry?: unknown;
  rate_limit?: unknown;
}

/** The connector that delivers webhooks (connectors/webhook). */
const WEBHOOK = 'webhook';

/**
 * Webhooks: integrations of the `webhook` connector, stored, validated, sealed and
 * delivered like any other (IntegrationService), seen through the webhook API's shape.
 */
export class WebhookService {
  constructor(private readonly integrations: IntegrationService) {}

  /**
   * A new webhook and its signing secret, which is shown only now; with `formId` null a
   * workspace-wide one, for every form of the workspace.
   */
  create(workspaceId: string, formId: string | null, input: WebhookInput) {
    return this.integrations.createIntegration(workspaceId, formId, {
      connector: WEBHOOK,
      config: { url: input.url, template: input.template, headers: input.headers },
      events: input.events,
      active: input.active,
      condition: input.condition,
      retry: input.retry,
      rate_limit: input.rate_limit,
    });
  }

  /** The workspace's webhooks; with `formId`, only that form's own. */
  list(
    workspaceId: string,
    formId: string | undefined,
    limit: number,
    beforeId?: string,
    formIds: readonly string[] | null = null,
  ) {
    return this.integrations.list(workspaceId, formId, WEBHOOK, limit, beforeId, formIds);
  }

  get(workspaceId: string, id: string): Promise<IntegrationRow> {
    return this.integrations.get(workspaceId, id, WEBHOOK);
  }

  update(workspaceId: string, id: string, patch: Partial<IntegrationInput>) {
    return this.integrations.update(workspaceId, id, patch, WEBHOOK);
  }

  delete(workspaceId: string, id: string): Promise<void> {
    return this.integrations.delete(workspaceId, id, WEBHOOK);
  }

  /** A new signing secret (shown once); the old one signs too for a grace period. */
  rotateSecret(workspaceId: string, id: string): Promise<string> {
    return this.integrations.rotateSecret(workspaceId, id, WEBHOOK);
  }

  /** The webhook as the API shows it, with its secret when one was just made. */
  present(row: IntegrationRow, secret?: string) {
    return {
      ...presentWebhook(row, this.integrations.openConfig(row)),
      ...(secret ? { secret } : {}),
    };
  }
}
