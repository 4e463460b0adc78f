import { PermanentError, type Credentials, type PluginContext } from '@formhub/sdk';
import { LogLevel, WebClient, type Logger } from '@slack/web-api';
import { fetchOver } from './slack-fetch.ts';
import { isAuthFailure, toPluginError } from './slack-errors.ts';
import { postedBy, type SlackConfig, type SlackMessage } from './slack-message.ts';

/** How many of the channel's latest messages a retry looks through for its own earlier post. */
export const HISTORY_WINDOW = 20;

/** Conversation ids (public, private, DM); chat.postMessage takes names too, history does not. */
const CONVERSATION_ID = /^[CGD][A-Z0-9]{6,}$/;
/** A user id: posting to it opens a DM whose id we do not know, so it cannot be checked. */
const USER_ID = /^[UW][A-Z0-9]{6,}$/;
/** conversations.list pages looked through when resolving a channel name (1,000 channels each). */
const MAX_LIST_PAGES = 5;

/**
 * One attempt's conversation with Slack: a WebClient on the attempt's credentials, with no
 * retries of its own (the delivery engine decides), its HTTP through `ctx.http`, and one
 * credentials refresh per attempt when Slack refuses the token.
 */
export class SlackSession {
  private client: WebClient;
  private token: string;
  private refreshed = false;

  constructor(private readonly ctx: PluginContext<SlackConfig>) {
    this.token = tokenOf(ctx.credentials);
    this.client = this.clientFor(this.token);
  }

  /**
   * Posts the message unless this delivery already did (a retry or replay whose earlier
   * post reached Slack although its answer never came back).
   */
  async post(message: SlackMessage): Promise<void> {
    const { ctx } = this;
    if (ctx.attempt > 1 && (await this.alreadyPosted(ctx.config.channel))) {
      ctx.logger.info('Slack already has this delivery’s message; not posting it again', {
        channel: ctx.config.channel,
      });
      return;
    }
    const result = await this.call('chat.postMessage', (client) =>
      client.chat.postMessage({ channel: ctx.config.channel, ...message }),
    );
    ctx.logger.info('posted to Slack', { channel: result.channel, ts: result.ts });
  }

  /**
   * Calls one Web API method. When Slack refuses the token, refreshes the credentials (once
   * per attempt: a Nango connection gets a new token) and calls again; a second refusal, or
   * a refresh that cannot change the token (one from config), is permanent.
   */
  async call<T>(method: string, run: (client: WebClient) => Promise<T>): Promise<T> {
    try {
      return await run(this.client);
    } catch (error) {
      if (!isAuthFailure(error)) throw toPluginError(error, method);
      if (this.refreshed) throw toPluginError(error, method, ' (after refreshing the credentials)');
      this.refreshed = true;
      const fresh = tokenOf(await this.ctx.refreshCredentials());
      if (fresh === this.token)
        throw toPluginError(error, method, ' (refreshing the credentials gave the same token)');
      this.ctx.logger.info('Slack refused the token; retrying with refreshed credentials', {
        method,
      });
      this.token = fresh;
      this.client = this.clientFor(fresh);
    }
    try {
      return await run(this.client);
    } catch (error) {
      throw toPluginError(
        error,
        method,
        isAuthFailure(error) ? ' (after refreshing the credentials)' : '',
      );
    }
  }

  /**
   * Whether one of the channel's latest messages carries this delivery's id. When that
   * cannot be checked (a missing scope, a channel name that cannot be resolved) it answers
   * false and the message is posted: at least once beats never. A transient failure throws,
   * so the attempt is retried rather than risking a duplicate.
   */
  private async alreadyPosted(channel: string): Promise<boolean> {
    try {
      const id = await this.conversationId(channel);
      if (!id) {
        this.ctx.logger.warn('cannot check Slack for an earlier post of this delivery; posting', {
          channel,
        });
        return false;
      }
      const history = await this.call('conversations.history', (client) =>
        client.conversations.history({
          channel: id,
          limit: HISTORY_WINDOW,
          include_all_metadata: true,
        }),
      );
      return (history.messages ?? []).some((m) => postedBy(m) === this.ctx.idempotencyKey);
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if ((error as Error).name !== 'PermanentError' || isAuthFailure(cause)) throw error;
      this.ctx.logger.warn('cannot check Slack for an earlier post of this delivery; posting', {
        channel,
        reason: (error as Error).message,
      });
      return false;
    }
  }

  /** The conversation id of a channel given by id or name (`#form-alerts`), if it can be found. */
  private async conversationId(channel: string): Promise<string | undefined> {
    if (CONVERSATION_ID.test(channel)) return channel;
    if (USER_ID.test(channel)) return undefined;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
      const list = await this.call('conversations.list', (client) =>
        client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          cursor,
        }),
      );
      const found = list.channels?.find((c) => c.name === name);
      if (found?.id) return found.id;
      cursor = list.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  private clientFor(token: string): WebClient {
    return new WebClient(token, {
      slackApiUrl: this.ctx.settings.SLACK_API_URL ?? 'https://slack.com/api/',
      // The delivery engine alone retries, so that the attempt log stays true.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      // ctx.http applies the attempt's deadline (ctx.signal) to every call.
      fetch: fetchOver(this.ctx.http),
      allowAbsoluteUrls: false,
      logger: slackLogger(this.ctx),
    });
  }
}

/** The bot token: the config's `token` or the Nango connection's access token. */
function tokenOf(credentials: Credentials): string {
  const token = credentials.accessToken;
  if (!token) {
    throw new PermanentError(
      'no Slack token: give the integration a config token or a Nango connection_id',
    );
  }
  return token;
}

/** The WebClient's log lines, into the plugin's logger (its debug lines are dropped). */
function slackLogger(ctx: PluginContext<SlackConfig>): Logger {
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: () => undefined,
    info: (...parts: unknown[]) => ctx.logger.debug(text(parts)),
    warn: (...parts: unknown[]) => ctx.logger.warn(text(parts)),
    error: (...parts: unknown[]) => ctx.logger.error(text(parts)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
