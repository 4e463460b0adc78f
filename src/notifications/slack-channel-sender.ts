import { LogLevel, WebClient } from '@slack/web-api';
import type { ChannelSender, OpenedChannel } from './channel-sender.ts';
import { slackTextOf, type OperationalPayload } from './message.ts';

/**
 * Posts operational events to a Slack channel with chat.postMessage (@slack/web-api, the
 * Slack connector's client), as the channel's bot token, at `SLACK_API_URL`. No retries
 * of its own: the notifier retries, so that the send log stays true.
 */
export class SlackChannelSender implements ChannelSender {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async send(channel: OpenedChannel, payload: OperationalPayload): Promise<void> {
    if (!channel.token) throw new Error('the channel has no Slack token');
    const client = new WebClient(channel.token, {
      slackApiUrl: this.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: this.timeoutMs,
      logLevel: LogLevel.ERROR,
    });
    await client.chat.postMessage({
      channel: channel.target,
      text: slackTextOf(payload),
      unfurl_links: false,
      unfurl_media: false,
    });
  }

  async close(): Promise<void> {
    // WebClients hold no connections of their own between calls.
  }
}
