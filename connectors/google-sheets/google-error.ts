import { parseRetryAfter, PermanentError, RetryableError } from '@formhub/sdk';

/**
 * What the Google client (gaxios) throws: a `GaxiosError` with the HTTP answer when there
 * was one, or a `code` such as `ECONNREFUSED` / `AbortError` when there was none. Read by
 * shape rather than `instanceof`, so any copy of gaxios is understood.
 */
interface GoogleFailure {
  name?: string;
  message?: string;
  code?: unknown;
  status?: number;
  response?: { status?: number; data?: unknown; headers?: unknown };
}

/** The SDK errors the engine classifies by name; they pass through untouched. */
const SDK_ERRORS = new Set(['RetryableError', 'PermanentError', 'GoneError']);

/** Google's `{error: {code, message, status}}` body, when the answer had one. */
interface GoogleErrorBody {
  message?: string;
  status?: string;
  errors?: { reason?: string }[];
}

/** The HTTP status of a failed Google call, or undefined when no answer came. */
export function googleStatus(error: unknown): number | undefined {
  const failure = error as GoogleFailure | null;
  return (
    failure?.response?.status ?? (typeof failure?.status === 'number' ? failure.status : undefined)
  );
}

/** True when Google refused the access token. */
export function isUnauthorized(error: unknown): boolean {
  return googleStatus(error) === 401;
}

function errorBody(error: unknown): GoogleErrorBody | undefined {
  const data = (error as GoogleFailure | null)?.response?.data;
  const body = typeof data === 'string' ? safeJson(data) : data;
  const inner = (body as { error?: unknown } | null | undefined)?.error;
  return typeof inner === 'object' && inner !== null ? (inner as GoogleErrorBody) : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function')
    return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A 403 that is a rate limit, as older Google APIs send them, rather than a refusal. */
function isRateLimit(body: GoogleErrorBody | undefined): boolean {
  if (body?.status === 'RESOURCE_EXHAUSTED') return true;
  return (body?.errors ?? []).some(
    (e) => e.reason === 'rateLimitExceeded' || e.reason === 'userRateLimitExceeded',
  );
}

/**
 * Maps a failed Google Sheets call onto the SDK's errors, keeping Google's own message for
 * the attempt log: 429, 408, 409 and 5xx (and a 403 that is a rate limit) are retryable,
 * honouring `Retry-After`; other 4xx (400 bad range or sheet, 401, 403 no access, 404
 * unknown spreadsheet) are permanent; no answer at all (network, timeout) is retryable.
 *
 * @example toPluginError(gaxiosError); // PermanentError('Google Sheets answered 404 NOT_FOUND: Requested entity was not found.')
 */
export function toPluginError(error: unknown): Error {
  const failure = (error ?? {}) as GoogleFailure;
  if (failure.name && SDK_ERRORS.has(failure.name)) return error as Error;
  const status = googleStatus(error);
  if (status === undefined) {
    const code =
      typeof failure.code === 'string' || typeof failure.code === 'number'
        ? `${failure.code}: `
        : '';
    return new RetryableError(
      `Google Sheets did not answer: ${code}${failure.message ?? String(error)}`,
      { cause: error },
    );
  }
  const body = errorBody(error);
  const message = `Google Sheets answered ${status}${body?.status ? ` ${body.status}` : ''}: ${body?.message ?? failure.message ?? 'no message'}`;
  const retryable =
    status === 408 ||
    status === 409 ||
    status === 429 ||
    status >= 500 ||
    (status === 403 && isRateLimit(body));
  if (!retryable) return new PermanentError(message, { statusCode: status, cause: error });
  const retryAfterMs =
    parseRetryAfter(header(failure.response?.headers, 'retry-after')) ?? undefined;
  return new RetryableError(message, { statusCode: status, retryAfterMs, cause: error });
}
