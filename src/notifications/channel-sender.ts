import type { ChannelKind } from './channel-input.ts';
import type { OperationalPayload } from './message.ts';

/** A channel as a sender needs it: its target and its opened secret or token. */
export interface OpenedChannel {
  id: string;
  kind: ChannelKind;
  target: string;
  /** A webhook channel's signing secret (`whsec_...`). */
  secret: string | null;
  /** A Slack channel's bot token. */
  token: string | null;
}

/**
 * Sends one event to one channel of its kind; resolves when the channel took it, throws
 * (with a message for the send log) when it did not. Implementations: EmailChannelSender,
 * WebhookChannelSender, SlackChannelSender.
 */
export interface ChannelSender {
  send(channel: OpenedChannel, payload: OperationalPayload): Promise<void>;
  close(): Promise<void>;
}
