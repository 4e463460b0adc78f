import { PermanentError, RetryableError } from '@formhub/sdk';
import { ErrorCode } from '@slack/web-api';

/** Platform errors that mean the token is bad: refresh the credentials once, then give up. */
const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_expired',
  'token_revoked',
  'account_inactive',
]);

/** Platform errors that Slack documents as transient: worth another attempt. */
const TRANSIENT_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

/** What `@slack/web-api` puts on the errors it throws (see its `errors.d.ts`). */
interface SlackClientError {
  name?: string;
  message?: string;
  code?: string;
  data?: { error?: string; needed?: string };
  statusCode?: number;
  retryAfter?: number;
  original?: Error;
}

/**
 * Slack's error code of a platform error (`{"ok": false, "error": "channel_not_found"}`),
 * else undefined.
 *
 * @example slackErrorCode(await client.chat.postMessage(args).catch((e) => e)); // 'channel_not_found'
 */
export function slackErrorCode(error: unknown): string | undefined {
  const e = error as SlackClientError | null;
  return e?.code === ErrorCode.PlatformError ? e.data?.error : undefined;
}

/** Whether Slack refused the token (the one case worth a credentials refresh). */
export function isAuthFailure(error: unknown): boolean {
  return AUTH_ERRORS.has(slackErrorCode(error) ?? '');
}

/** Errors that are already the SDK's outcome classes pass through unchanged. */
function isOutcome(error: unknown): error is Error {
  const name = (error as Error | null)?.name;
  return name === 'RetryableError' || name === 'PermanentError' || name === 'GoneError';
}

/**
 * Maps what `@slack/web-api` threw onto the SDK's outcome classes. Platform errors are
 * permanent with Slack's code in the message (statusCode 200: Slack answers them with HTTP
 * 200), except the documented transient ones; a 429 is retryable with Retry-After; HTTP
 * 5xx, 408, network errors and timeouts are retryable; other HTTP 4xx are permanent.
 *
 * @example throw toPluginError(error, 'chat.postMessage'); // PermanentError('Slack chat.postMessage: channel_not_found')
 */
export function toPluginError(error: unknown, method: string, note = ''): Error {
  if (isOutcome(error)) return error;
  const e = (error ?? {}) as SlackClientError;
  const prefix = `Slack ${method}`;
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      const needed = e.data?.needed ? ` (the token needs the ${e.data.needed} scope)` : '';
      const message = `${prefix}: ${code}${needed}${note}`;
      if (TRANSIENT_ERRORS.has(code))
        return new RetryableError(message, { statusCode: 200, cause: error });
      return new PermanentError(message, { statusCode: 200, cause: error });
    }
    case ErrorCode.RateLimitedError: {
      const seconds = e.retryAfter ?? 0;
      return new RetryableError(`${prefix}: rate limited, retry after ${seconds} s`, {
        statusCode: 429,
        retryAfterMs: seconds * 1000,
        cause: error,
      });
    }
    case ErrorCode.HTTPError: {
      const status = e.statusCode ?? 0;
      const message = `${prefix}: HTTP ${status}`;
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return new PermanentError(message, { statusCode: status, cause: error });
      }
      return new RetryableError(message, { statusCode: status, cause: error });
    }
    case ErrorCode.RequestError:
      return new RetryableError(`${prefix}: ${describeRequestFailure(e.original)}`, {
        statusCode: 0,
        cause: error,
      });
    default:
      return unknownError(e, prefix, error);
  }
}

/** A request that never got an answer: timed out, aborted, refused, reset. */
function describeRequestFailure(original: Error | undefined): string {
  if (!original) return 'the request failed';
  if (original.name === 'TimeoutError' || original.name === 'AbortError')
    return `no answer in time (${original.message})`;
  const code = (original as { code?: string }).code;
  return code && !original.message.includes(code)
    ? `${code}: ${original.message}`
    : original.message;
}

/** Anything else: a 429 without a usable Retry-After is still a 429; the rest is retried. */
function unknownError(e: SlackClientError, prefix: string, error: unknown): Error {
  const message = e.message ?? String(error);
  if (/rate limit|retry header/i.test(message)) {
    return new RetryableError(`${prefix}: rate limited (${message})`, {
      statusCode: 429,
      cause: error,
    });
  }
  return new RetryableError(`${prefix}: ${message}`, { cause: error });
}
