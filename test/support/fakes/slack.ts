import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A local fake of the slice of Slack's Web API the Slack connector uses, with the request
 * and answer shapes of Slack's documentation: `POST /api/<method>` with a form-encoded body
 * (nested values JSON-encoded, as @slack/web-api sends them) or a JSON body, the token in
 * `Authorization: Bearer` (or a `token` field), HTTP 200 with `{"ok": true, ...}` or
 * `{"ok": false, "error": "..."}`, and 429 with `Retry-After` when rate limited.
 */

/** A message as Slack stores it. */
export interface FakeMessage {
  type: 'message';
  channel: string;
  ts: string;
  text: string;
  user: string;
  bot_id: string;
  app_id: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** The token that posted it (not part of Slack's shape; for assertions). */
  token: string;
}

/** One call the fake received. */
export interface FakeCall {
  method: string;
  token: string | undefined;
  contentType: string;
  args: Record<string, unknown>;
  /** What it answered: the HTTP status and Slack's `error`, if any. */
  status: number;
  error: string | undefined;
}

/** A programmed failure for the next matching calls. */
export interface FakeFailure {
  /** Only calls of this method (default: any). */
  method?: string;
  /** Only calls naming this channel (id or name, default: any). */
  channel?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** HTTP status to answer (500, 503, 429...). */
  status?: number;
  /** With a 429: the Retry-After header, in seconds. */
  retryAfter?: number;
  /** Answer HTTP 200 `{"ok": false, "error": <this>}`. */
  error?: string;
  /** Carry the call out first, then fail its answer (a post that landed but whose answer was lost). */
  commit?: boolean;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
}

export interface FakeSlack {
  /** The base URL to give `SLACK_API_URL` (ends in `/api/`). */
  url: string;
  calls: FakeCall[];
  /** The messages of a channel (by name, `#name` or id), oldest first. */
  messages(channel: string): FakeMessage[];
  /** Creates a channel (if new) and answers its id. */
  addChannel(name: string, options?: { isPrivate?: boolean }): string;
  /** Tokens the fake accepts; any other answers `invalid_auth`. */
  tokens: Set<string>;
  /** Programs failures for the next matching calls. */
  fail(failure: FakeFailure): void;
  /** Posts a message as someone else (to push formhub's out of the history window). */
  chatter(channel: string, count: number): void;
  close(): Promise<void>;
}

interface Channel {
  id: string;
  name: string;
  isPrivate: boolean;
  messages: FakeMessage[];
}

/** Slack answers these methods; anything else is `unknown_method`. */
type Handler = (args: Record<string, unknown>, token: string) => Record<string, unknown>;

/** Raised by a handler: answer `{"ok": false, "error": code}`. */
class SlackFailure extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const MAX_TEXT = 40_000;

/** Starts the fake on 127.0.0.1 with the given channels (names, without `#`). */
export async function startFakeSlack(
  options: { channels?: string[]; tokens?: string[] } = {},
): Promise<FakeSlack> {
  const channels = new Map<string, Channel>();
  const calls: FakeCall[] = [];
  const failures: FakeFailure[] = [];
  const tokens = new Set(options.tokens ?? ['xoxb-test']);
  let clock = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let nextId = 1;

  const nextTs = () => `${clock}.${String((sequence += 1)).padStart(6, '0')}`;
  const addChannel = (name: string, opts: { isPrivate?: boolean } = {}) => {
    const existing = find(name);
    if (existing) return existing.id;
    const id = `${opts.isPrivate ? 'G' : 'C'}0FAKE${String(nextId++).padStart(4, '0')}`;
    channels.set(id, {
      id,
      name: name.replace(/^#/, ''),
      isPrivate: opts.isPrivate ?? false,
      messages: [],
    });
    return id;
  };
  /** chat.postMessage takes an id, a name or `#name`. */
  const find = (ref: string): Channel | undefined =>
    channels.get(ref) ?? [...channels.values()].find((c) => c.name === ref.replace(/^#/, ''));
  for (const name of options.channels ?? []) addChannel(name);

  const store = (
    channel: Channel,
    message: Omit<FakeMessage, 'type' | 'channel' | 'ts' | 'user' | 'bot_id' | 'app_id'>,
  ) => {
    const stored: FakeMessage = {
      type: 'message',
      channel: channel.id,
      ts: nextTs(),
      user: 'U0FAKEBOT',
      bot_id: 'B0FAKEBOT',
      app_id: 'A0FAKEAPP',
      ...message,
    };
    channel.messages.push(stored);
    return stored;
  };

  const handlers: Record<string, Handler> = {
    'auth.test': (_args, token) => ({
      url: 'https://formhub-test.slack.com/',
      team: 'formhub test',
      user: 'formhub',
      team_id: 'T0FAKE',
      user_id: 'U0FAKEBOT',
      bot_id: 'B0FAKEBOT',
      is_enterprise_install: false,
      token_hint: token.slice(0, 5),
    }),
    'chat.postMessage': (args, token) => {
      const channel = typeof args.channel === 'string' ? find(args.channel) : undefined;
      if (!channel) throw new SlackFailure('channel_not_found');
      const text = typeof args.text === 'string' ? args.text : '';
      const blocks = parseJson(args.blocks, 'invalid_blocks');
      if (
        blocks !== undefined &&
        (!Array.isArray(blocks) ||
          blocks.some((b) => typeof (b as { type?: unknown })?.type !== 'string'))
      ) {
        throw new SlackFailure('invalid_blocks');
      }
      if (text === '' && blocks === undefined) throw new SlackFailure('no_text');
      if (text.length > MAX_TEXT) throw new SlackFailure('msg_too_long');
      const metadata = parseJson(
        args.metadata,
        'invalid_metadata_format',
      ) as FakeMessage['metadata'];
      if (
        metadata !== undefined &&
        (typeof metadata?.event_type !== 'string' || typeof metadata.event_payload !== 'object')
      ) {
        throw new SlackFailure('invalid_metadata_format');
      }
      const message = store(channel, {
        text,
        token,
        ...(blocks ? { blocks: blocks as unknown[] } : {}),
        ...(metadata ? { metadata } : {}),
      });
      return { channel: channel.id, ts: message.ts, message: publicMessage(message, true) };
    },
    'conversations.history': (args) => {
      // Unlike chat.postMessage, conversations.history takes a conversation id only.
      const channel = typeof args.channel === 'string' ? channels.get(args.channel) : undefined;
      if (!channel) throw new SlackFailure('channel_not_found');
      const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 999);
      const all = truthy(args.include_all_metadata);
      const newest = [...channel.messages].reverse();
      const page = newest.slice(0, limit).map((m) => publicMessage(m, all));
      return {
        messages: page,
        has_more: newest.length > limit,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        response_metadata: {
          next_cursor:
            newest.length > limit ? Buffer.from(`ts:${page.at(-1)!.ts}`).toString('base64') : '',
        },
      };
    },
    'conversations.list': (args) => {
      const types = String(args.types ?? 'public_channel').split(',');
      const list = [...channels.values()]
        .filter((c) => types.includes(c.isPrivate ? 'private_channel' : 'public_channel'))
        .map((c) => ({
          id: c.id,
          name: c.name,
          is_channel: !c.isPrivate,
          is_group: c.isPrivate,
          is_private: c.isPrivate,
          is_archived: false,
          is_member: true,
        }));
      return { channels: list, response_metadata: { next_cursor: '' } };
    },
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const contentType = String(req.headers['content-type'] ?? '');
    const args = parseBody(contentType, raw);
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    const call: FakeCall = { method, token, contentType, args, status: 200, error: undefined };
    calls.push(call);
    const answer = (
      status: number,
      body: Record<string, unknown>,
      headers: Record<string, string> = {},
    ) => {
      call.status = status;
      call.error = body.ok === false ? String(body.error) : undefined;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' && req.method !== 'GET')
      return answer(405, { ok: false, error: 'method_not_allowed' });
    const failure = takeFailure(method, args);
    if (failure && !failure.commit) return fail(failure, answer, res);
    const result = run(method, args, token);
    if (failure) return fail(failure, answer, res);
    answer(200, result);
  }

  function run(
    method: string,
    args: Record<string, unknown>,
    token: string | undefined,
  ): Record<string, unknown> {
    const handler = handlers[method];
    if (!handler) return { ok: false, error: 'unknown_method' };
    if (!token) return { ok: false, error: 'not_authed' };
    if (!tokens.has(token)) return { ok: false, error: 'invalid_auth' };
    try {
      return { ok: true, ...handler(args, token) };
    } catch (error) {
      if (error instanceof SlackFailure) return { ok: false, error: error.code };
      throw error;
    }
  }

  function takeFailure(method: string, args: Record<string, unknown>): FakeFailure | undefined {
    const index = failures.findIndex(
      (f) =>
        (!f.method || f.method === method) && (!f.channel || sameChannel(f.channel, args.channel)),
    );
    if (index < 0) return undefined;
    const failure = failures[index]!;
    failure.times = (failure.times ?? 1) - 1;
    if (failure.times <= 0) failures.splice(index, 1);
    return failure;
  }

  function sameChannel(wanted: string, given: unknown): boolean {
    if (typeof given !== 'string') return false;
    const a = find(wanted);
    return a ? a === find(given) : wanted === given;
  }

  function fail(
    failure: FakeFailure,
    answer: (s: number, b: Record<string, unknown>, h?: Record<string, string>) => void,
    res: ServerResponse,
  ) {
    if (failure.reset) return void res.socket?.destroy();
    if (failure.error) return answer(200, { ok: false, error: failure.error });
    const status = failure.status ?? 500;
    if (status === 429) {
      const headers: Record<string, string> =
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) };
      return answer(429, { ok: false, error: 'ratelimited' }, headers);
    }
    answer(status, { ok: false, error: 'fatal_error' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    tokens,
    messages: (channel) => find(channel)?.messages.map((m) => ({ ...m })) ?? [],
    addChannel,
    fail: (failure) => void failures.push({ ...failure }),
    chatter(channel, count) {
      const target = find(channel);
      if (!target) throw new Error(`no channel ${channel}`);
      for (let i = 0; i < count; i += 1)
        store(target, { text: `chatter ${i}`, token: 'xoxp-someone' });
      clock += 1;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A message as the API shows it: metadata only when asked for, no test-only fields. */
function publicMessage(message: FakeMessage, withMetadata: boolean): Record<string, unknown> {
  const { type, ts, text, user, bot_id, app_id, blocks, metadata } = message;
  const shown: Record<string, unknown> = {
    type,
    ts,
    text,
    user,
    bot_id,
    app_id,
    ...(blocks ? { blocks } : {}),
  };
  return withMetadata && metadata ? { ...shown, metadata } : shown;
}

/** Form-encoded fields, or a JSON object; nested values stay JSON strings in a form body. */
function parseBody(contentType: string, raw: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/** A value that is a JSON string in a form body and an object in a JSON body. */
function parseJson(value: unknown, errorCode: string): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new SlackFailure(errorCode);
  }
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}
