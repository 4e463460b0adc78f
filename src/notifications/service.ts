import type { Logger } from 'pino';
import { generateWebhookSecret } from '@formhub/sdk';
import { isUuid, uuidv7 } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { notFound, validationFailed, type ErrorDetail } from '../errors/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { checkChannel, type ChannelInput } from './channel-input.ts';
import { payloadOf } from './message.ts';
import { integrationUrl } from './integration-url.ts';
import {
  deleteChannel,
  findChannel,
  insertChannel,
  listChannels,
  listEvents,
  sendsOf,
  type ChannelRow,
} from './queries.ts';

export interface NotificationServiceDeps {
  db: Queryable;
  secrets: SecretBox;
  logger: Logger;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: the SSRF guard of webhook targets holds for channels too. */
  allowPrivateTargets: boolean;
  /** Whether SMTP_URL is set (an e-mail channel without it could never be sent). */
  smtpConfigured: boolean;
}

/** Notification channels and the operational events sent to them (DESIGN.md section 4b). */
export class NotificationService {
  constructor(private readonly deps: NotificationServiceDeps) {}

  /**
   * A new channel; a webhook channel's signing secret is made now and answered only here,
   * a Slack channel's token is sealed and never answered.
   */
  async create(
    workspaceId: string,
    input: ChannelInput,
  ): Promise<{ row: ChannelRow; secret: string | undefined }> {
    const { secrets } = this.deps;
    const details: ErrorDetail[] = [];
    const checked = checkChannel(input, this.deps.allowPrivateTargets, details);
    if (checked.kind === 'email' && !this.deps.smtpConfigured)
      details.push({ field: 'kind', message: 'e-mail channels need SMTP_URL set on the hub' });
    if (details.length > 0) throw validationFailed('the channel breaks the rules', details);
    const secret = checked.kind === 'webhook' ? generateWebhookSecret() : undefined;
    const row = await insertChannel(this.deps.db, {
      id: uuidv7(),
      workspaceId,
      kind: checked.kind,
      target: checked.target,
      events: checked.events,
      secretSealed: secret ? secrets.seal(secret) : null,
      configSealed: checked.token ? secrets.sealJson({ token: checked.token }) : null,
    });
    return { row, secret };
  }

  list(workspaceId: string, limit: number, before: string | undefined): Promise<ChannelRow[]> {
    return listChannels(this.deps.db, workspaceId, limit, before);
  }

  /** The channel; 404 when it is not this workspace's. */
  async get(workspaceId: string, id: string): Promise<ChannelRow> {
    const row = isUuid(id) ? await findChannel(this.deps.db, workspaceId, id) : undefined;
    if (!row) throw notFound('notification channel');
    return row;
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    const gone = isUuid(id) && (await deleteChannel(this.deps.db, workspaceId, id));
    if (!gone) throw notFound('notification channel');
  }

  /** Recent operational events, newest first, each with its sends' state. */
  async events(workspaceId: string, limit: number, before: { at: Date; id: string } | undefined) {
    const { db, secrets, logger } = this.deps;
    const rows = await listEvents(db, workspaceId, limit, before);
    const sends = await sendsOf(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((row) => ({
      row,
      event: {
        ...payloadOf({ ...row, integration_url: integrationUrl(secrets, row, logger) }),
        sends: sends
          .filter((s) => s.event_id === row.id)
          .map((s) => ({
            channel_id: s.channel_id,
            kind: s.kind,
            target: s.target,
            status: s.status,
            attempts: s.attempts,
            last_error: s.last_error,
            next_attempt_at: s.status === 'pending' ? s.next_attempt_at.toISOString() : null,
            sent_at: s.sent_at?.toISOString() ?? null,
          })),
      },
    }));
  }
}

/** A channel as the API shows it: never its secret or token. */
export function presentChannel(row: ChannelRow, secret?: string) {
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    events: row.events,
    status: row.failing_since ? ('failing' as const) : ('active' as const),
    failing_since: row.failing_since?.toISOString() ?? null,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    ...(secret ? { secret } : {}),
  };
}
