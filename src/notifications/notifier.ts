import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import type { ChannelKind } from './channel-input.ts';
import type { ChannelSender, OpenedChannel } from './channel-sender.ts';
import { payloadOf } from './message.ts';
import { integrationUrl } from './integration-url.ts';
import {
  claimSends,
  settleSends,
  type ClaimedSend,
  type SendResult,
  type StoredEvent,
} from './queries.ts';

/** Retries of one send at most, however long WEBHOOK_RETRY_SCHEDULE is ("a few"). */
export const MAX_SEND_RETRIES = 5;
/** Sends claimed per round. */
const BATCH = 20;

export interface NotifierDeps {
  db: Database;
  secrets: SecretBox;
  senders: Record<ChannelKind, ChannelSender>;
  logger: Logger;
  /** Delays between attempts of one send (the first MAX_SEND_RETRIES of WEBHOOK_RETRY_SCHEDULE). */
  retryScheduleMs: readonly number[];
  /** One attempt's bound (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * Sends operational events to notification channels: claims due sends, sends each through
 * its kind's sender under the timeout, and settles them in the send log (sent; failed and
 * due again after the next delay; or failed for good when the delays are spent). A failing
 * channel is only marked so: it raises no event, so it cannot notify about itself.
 */
export class Notifier {
  private readonly schedule: readonly number[];

  constructor(private readonly deps: NotifierDeps) {
    this.schedule = deps.retryScheduleMs.slice(0, MAX_SEND_RETRIES);
  }

  /** One round; answers how many sends it attempted (for startLoop). */
  async tick(): Promise<number> {
    const { db, timeoutMs } = this.deps;
    // A worker that dies mid-send lets the send go again after the lease.
    const claimed = await claimSends(db, BATCH, timeoutMs + 30_000);
    if (claimed.length === 0) return 0;
    const results = await Promise.all(claimed.map((send) => this.attempt(send)));
    await settleSends(db, results);
    return claimed.length;
  }

  private async attempt(send: ClaimedSend): Promise<SendResult> {
    const { event, channel, attempt } = send;
    const result = { eventId: event.id, channelId: channel.id };
    try {
      const sender = this.deps.senders[channel.kind];
      const payload = payloadOf({ ...event, integration_url: this.urlOf(event) });
      await withTimeout(sender.send(this.open(channel), payload), this.deps.timeoutMs);
      return { ...result, error: null, retryAt: null };
    } catch (error) {
      const message = ((error as Error).message || String(error)).slice(0, 1_000);
      const delay = this.schedule[attempt - 1];
      const retryAt = delay === undefined ? null : new Date(Date.now() + delay);
      this.deps.logger.warn(
        { channel: channel.id, kind: channel.kind, event: event.id, attempt, err: message },
        retryAt ? 'notification not sent; will retry' : 'notification not sent; giving up',
      );
      return { ...result, error: message, retryAt };
    }
  }

  private open(channel: ClaimedSend['channel']): OpenedChannel {
    const { secrets } = this.deps;
    return {
      id: channel.id,
      kind: channel.kind,
      target: channel.target,
      secret: channel.secret_sealed ? secrets.open(channel.secret_sealed) : null,
      token: channel.config_sealed
        ? (secrets.openJson<{ token?: string }>(channel.config_sealed).token ?? null)
        : null,
    };
  }

  /** A webhook integration's URL, shown in the payload (undefined for other connectors). */
  private urlOf(event: StoredEvent): string | undefined {
    return integrationUrl(this.deps.secrets, event, this.deps.logger);
  }
}

/** Rejects after `ms` when `work` has not settled (the send itself may still finish). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
