import { signatureHeaders } from '@formhub/sdk';
import { request, type Dispatcher } from 'undici';
import type { ChannelSender, OpenedChannel } from './channel-sender.ts';
import type { OperationalPayload } from './message.ts';

/**
 * POSTs operational events as JSON, signed like a webhook (DESIGN.md section 4, "Webhooks":
 * the X-Webhook-* and Standard Webhooks headers, keyed by the channel's secret; the id is
 * the event's, the same on every attempt). Through the hub's guarded agent, so a target
 * that resolves to a private address is refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS.
 * A 2xx is success; anything else, a redirect included, fails the attempt.
 */
export class WebhookChannelSender implements ChannelSender {
  constructor(private readonly dispatcher: Dispatcher) {}

  async send(channel: OpenedChannel, payload: OperationalPayload): Promise<void> {
    if (!channel.secret) throw new Error('the channel has no signing secret');
    const body = JSON.stringify(payload);
    const res = await request(channel.target, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: {
        'user-agent': 'formhub-notifications/1.0',
        'content-type': 'application/json',
        ...signatureHeaders({
          id: payload.id,
          timestamp: Math.floor(Date.now() / 1000),
          body,
          secrets: [channel.secret],
        }),
      },
      body,
    });
    // The answer is not kept; reading it frees the connection.
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new Error(`the receiver answered ${res.statusCode}`);
  }

  async close(): Promise<void> {
    // The agent is the caller's.
  }
}
