/** One entry of an error's `details`: which field, and what is wrong with it. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** The error codes of the API contract (DESIGN.md section 3) and their HTTP statuses. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal_error: 500,
  /** A query ran past QUERY_TIMEOUT and was cancelled (before `unavailable`: 503 maps back to it). */
  query_timeout: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * An error the API reports to its caller as `{"error": {"code", "message", "details"}}`.
 *
 * @example throw new AppError('not_found', 'form not found');
 */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

/** 404 for anything unknown or belonging to another workspace. */
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);

/** 422 with one detail per offending field. */
export const validationFailed = (message: string, details: ErrorDetail[]) =>
  new AppError('validation_failed', message, details);

/** 400 for a malformed parameter, naming it. */
export const invalidRequest = (message: string, details: ErrorDetail[] = []) =>
  new AppError('invalid_request', message, details);
