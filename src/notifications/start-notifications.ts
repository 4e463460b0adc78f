import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { createGuardedAgent } from '../net/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { EmailChannelSender } from './email-channel-sender.ts';
import { Notifier } from './notifier.ts';
import { SlackChannelSender } from './slack-channel-sender.ts';
import { WebhookChannelSender } from './webhook-channel-sender.ts';

/** How long the notifier waits when nothing was due: events go out within about a second. */
const IDLE_MS = 1_000;

/**
 * Starts the worker's notifier loop: pending operational-event sends go to their channels
 * (e-mail through SMTP_URL, signed webhooks through the guarded agent, Slack at
 * SLACK_API_URL), retried on WEBHOOK_RETRY_SCHEDULE's first delays.
 */
export function startNotifications(deps: {
  db: Database;
  secrets: SecretBox;
  config: Config;
  logger: Logger;
}): { stop(): Promise<void> } {
  const { config, logger } = deps;
  const timeoutMs = config.webhooks.timeoutMs;
  const dispatcher = createGuardedAgent({
    allowPrivate: config.webhooks.allowPrivateTargets,
    timeoutMs,
  });
  const senders = {
    email: new EmailChannelSender(config.smtp.url, config.smtp.from, timeoutMs),
    webhook: new WebhookChannelSender(dispatcher),
    slack: new SlackChannelSender(config.connectors.slackApiUrl, timeoutMs),
  };
  const notifier = new Notifier({
    db: deps.db,
    secrets: deps.secrets,
    senders,
    logger,
    retryScheduleMs: config.webhooks.retryScheduleMs,
    timeoutMs,
  });
  const loop = startLoop('notifications', () => notifier.tick(), logger, { idleMs: IDLE_MS });
  return {
    async stop() {
      await loop.stop();
      await Promise.all(Object.values(senders).map((s) => s.close()));
      await dispatcher.close();
    },
  };
}
