/**
 * Slack: posts a message per response to a channel with `chat.postMessage` (a mustache
 * text, optional Block Kit blocks), and anomaly alerts when subscribed to
 * `analytics.anomaly`. The bot token comes from the config (`token`, encrypted at rest,
 * never returned) or from a Nango connection.
 *
 * Idempotency: Slack has no idempotency key for chat.postMessage. Each message carries the
 * delivery id in its metadata (`event_type: formhub_response`, `event_payload.delivery_id`),
 * and a retry or replay first looks through the channel's latest 20 messages
 * (`conversations.history`) and does not post again when it finds its own. A replay after
 * more than 20 newer messages, a first attempt that a crashed worker runs again, or a
 * token without the history scope (`channels:history`, `groups:history`; and
 * `channels:read`, `groups:read` to resolve a channel name) can still post twice.
 */
import { FormPlugin, type FormEvent, type PluginContext } from '@formhub/sdk';
import { SlackSession } from './slack-session.ts';
import {
  anomalyMessage,
  DEFAULT_TEXT,
  responseMessage,
  testMessage,
  type SlackConfig,
} from './slack-message.ts';

export type { SlackConfig } from './slack-message.ts';

export default class SlackPlugin extends FormPlugin<SlackConfig> {
  readonly metadata = {
    id: 'slack',
    name: 'Slack',
    version: '1.0.0',
    description:
      'Posts a message per response to a Slack channel (chat.postMessage), and anomaly alerts.',
    configSchema: {
      type: 'object',
      required: ['channel', 'text'],
      additionalProperties: false,
      properties: {
        channel: {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          description: 'A channel name (#form-alerts) or id (C0123456789); invite the bot to it',
        },
        text: {
          type: 'string',
          minLength: 1,
          maxLength: 40_000,
          description: `Mustache over {event, form, response, data}, e.g. "${DEFAULT_TEXT}" or "New response: {{data.name}}"; values are escaped for Slack`,
        },
        blocks: {
          type: 'array',
          maxItems: 50,
          items: { type: 'object' },
          description: 'Block Kit blocks; every string in them is a mustache template like text',
        },
        token: {
          type: 'string',
          writeOnly: true,
          description: 'A bot token (xoxb-...), unless a Nango connection_id is given',
        },
      },
    },
  };

  override onResponseSubmitted = postResponse;
  override onResponseUpdated = postResponse;
  override onResponseDeleted = postResponse;

  override async onAnomaly(event: FormEvent, ctx: PluginContext<SlackConfig>): Promise<void> {
    await new SlackSession(ctx).post(anomalyMessage(event, ctx.idempotencyKey));
  }

  override async onTest(event: FormEvent, ctx: PluginContext<SlackConfig>): Promise<void> {
    await new SlackSession(ctx).post(testMessage(event, ctx.idempotencyKey));
  }
}

/** One message per response event; which events arrive is the integration's `events`. */
async function postResponse(event: FormEvent, ctx: PluginContext<SlackConfig>): Promise<void> {
  const message = responseMessage(event, ctx.config, ctx.idempotencyKey);
  await new SlackSession(ctx).post(message);
}
