import { parseRetryAfter, PermanentError, RetryableError, type HttpResponse } from '@formhub/sdk';

/** One entry of a Salesforce REST error body (`[{message, errorCode, fields}]`). */
interface SalesforceErrorEntry {
  message?: unknown;
  errorCode?: unknown;
  fields?: unknown;
}

/** What jsforce's HttpApiError carries: `errorCode` (also its `name`) and the parsed body as `data`. */
interface JsforceError {
  name?: string;
  message?: string;
  errorCode?: unknown;
  data?: unknown;
  code?: unknown;
  cause?: { code?: unknown; message?: unknown };
}

/** Error codes Salesforce answers with a 4xx although trying again later can succeed. */
const TRANSIENT_CODES = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
]);

/** Statuses worth another attempt: timeouts, rate limits and server errors. */
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/** Salesforce's text goes to the attempt log; an HTML error page must not flood it. */
const MAX_DETAIL = 500;

/**
 * Maps what a jsforce call threw onto the SDK's error classes, for the delivery engine:
 * 401 is a PermanentError with `statusCode` 401 (the hook refreshes and tries once more
 * before giving up); 5xx, 408, 429, `REQUEST_LIMIT_EXCEEDED` and `UNABLE_TO_LOCK_ROW` are
 * retryable; any other answer (a validation error, a duplicate rule, 404 `NOT_FOUND`, 300
 * `MULTIPLE_CHOICES`) is permanent, with Salesforce's errorCode and message in the text;
 * no answer at all (refused, reset, timed out) is retryable, except a target the hub refuses
 * to reach. `lastResponse` is the answer the call got, if it got one.
 *
 * @example
 * toDeliveryError(err, { status: 400, headers: {}, body: '...' }, 'Lead');
 * // PermanentError('Salesforce refused the Lead (HTTP 400): REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)')
 */
export function toDeliveryError(
  error: unknown,
  lastResponse: HttpResponse | undefined,
  sobject: string,
): Error {
  if (isSdkError(error)) return error;
  const e = (error ?? {}) as JsforceError;
  if (lastResponse && lastResponse.status >= 300) return httpError(e, lastResponse, sobject);
  const code = stringOf(e.code) ?? stringOf(e.cause?.code);
  const reason =
    [e.message, stringOf(e.cause?.message)].filter(Boolean).join(': ') || String(error);
  const message = `Salesforce could not be reached: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`;
  if (code === 'EBLOCKEDADDRESS') return new PermanentError(message, { cause: error });
  return new RetryableError(message, { cause: error });
}

/** An error for an HTTP answer of 300 or more. */
function httpError(e: JsforceError, response: HttpResponse, sobject: string): Error {
  const status = response.status;
  const entries = errorEntries(e);
  const detail =
    entries.map(describe).join('; ').slice(0, MAX_DETAIL) ||
    `${e.name ?? 'Error'}: ${e.message ?? ''}`;
  const codes = entries.map((entry) => stringOf(entry.errorCode));
  if (status === 401)
    return new PermanentError(`Salesforce refused the access token (HTTP 401): ${detail}`, {
      statusCode: 401,
      cause: e,
    });
  if (RETRYABLE_STATUS(status) || codes.some((c) => c !== undefined && TRANSIENT_CODES.has(c))) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']) ?? undefined;
    return new RetryableError(`Salesforce answered HTTP ${status}: ${detail}`, {
      statusCode: status,
      retryAfterMs,
      cause: e,
    });
  }
  return new PermanentError(`Salesforce refused the ${sobject} (HTTP ${status}): ${detail}`, {
    statusCode: status,
    cause: e,
  });
}

/** The error entries of the body: jsforce keeps one as `data`, several as an array. */
function errorEntries(e: JsforceError): SalesforceErrorEntry[] {
  const data = Array.isArray(e.data) ? (e.data as unknown[]) : [e.data];
  const entries = data.filter(
    (d): d is SalesforceErrorEntry => typeof d === 'object' && d !== null && 'message' in d,
  );
  if (entries.length > 0) return entries;
  // A body that was not Salesforce's JSON (an HTML page from a proxy): jsforce names it ERROR_HTTP_<status>.
  return [{ errorCode: e.errorCode ?? e.name, message: e.message }];
}

/** `REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)`. */
function describe(entry: SalesforceErrorEntry): string {
  const code = stringOf(entry.errorCode);
  const message = stringOf(entry.message) ?? '';
  const fields =
    Array.isArray(entry.fields) && entry.fields.length > 0
      ? ` (fields: ${entry.fields.join(', ')})`
      : '';
  return `${code ? `${code}: ` : ''}${message.replace(/\s+/g, ' ').trim()}${fields}`;
}

/** Errors the hook or ctx.refreshCredentials() already classified (by name, as the engine does). */
function isSdkError(error: unknown): error is Error {
  const name = (error as { name?: unknown } | null)?.name;
  return (
    error instanceof Error &&
    (name === 'PermanentError' || name === 'RetryableError' || name === 'GoneError')
  );
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
