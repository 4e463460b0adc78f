/**
 * The attempt failed but may succeed later: the hub retries it on its schedule
 * (`retryAfterMs`, when given, is honoured within reason). Any other thrown error is
 * treated the same way.
 *
 * @example throw new RetryableError('Slack is rate limiting', { retryAfterMs: 30_000 });
 */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  readonly statusCode: number | undefined;

  constructor(
    message: string,
    options: { retryAfterMs?: number; statusCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = options.retryAfterMs;
    this.statusCode = options.statusCode;
  }
}

/**
 * Retrying cannot help (bad configuration, a rejected record): the delivery goes straight
 * to the dead-letter state, where an admin can fix the cause and replay it.
 *
 * @example throw new PermanentError('channel_not_found', { statusCode: 404 });
 */
export class PermanentError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, options: { statusCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PermanentError';
    this.statusCode = options.statusCode;
  }
}

/**
 * The target is gone for good (HTTP 410, a revoked token): the hub disables the
 * integration at once, as REST hooks expect.
 *
 * @example if (res.status === 410) throw new GoneError('the subscription was removed');
 */
export class GoneError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, options: { statusCode?: number } = {}) {
    super(message);
    this.name = 'GoneError';
    this.statusCode = options.statusCode ?? 410;
  }
}
