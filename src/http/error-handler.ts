import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from '../errors/index.ts';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/fields/0/key` -> `fields[0].key`, with a missing property appended. */
function fieldPath(issue: AjvIssue, context: string | undefined): string {
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean);
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof missing === 'string') parts.push(missing);
  const path = parts.reduce(
    (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    '',
  );
  return path || (context ?? 'body');
}

function validationDetails(error: FastifyError): ErrorDetail[] {
  const issues = (error.validation ?? []) as AjvIssue[];
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const field = fieldPath(issue, error.validationContext);
    if (seen.has(field)) continue;
    seen.add(field);
    const extra = issue.params?.additionalProperty ? 'is not a known property' : issue.message;
    details.push({ field, message: extra ?? 'is not valid' });
  }
  return details;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
};

const STATUS_CODES = Object.fromEntries(
  Object.entries(ERROR_STATUS).map(([code, status]) => [status, code as ErrorCode]),
) as Record<number, ErrorCode>;

function toAppError(error: FastifyError): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const details = validationDetails(error);
    return error.validationContext === 'body'
      ? new AppError('validation_failed', 'the request body breaks the rules', details)
      : new AppError(
          'invalid_request',
          `invalid ${error.validationContext ?? 'request'} parameters`,
          details,
        );
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped === 'payload_too_large')
    return new AppError(mapped, 'the request body is larger than allowed');
  if (mapped === 'unsupported_media_type') return new AppError(mapped, 'send application/json');
  if (error.code === 'FST_ERR_BAD_URL')
    return new AppError('invalid_request', 'the URL is not valid');
  if (mapped) return new AppError(mapped, error.message);
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new AppError('invalid_request', 'the request body is not valid JSON');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return new AppError(STATUS_CODES[status] ?? 'invalid_request', error.message);
  return undefined;
}

/**
 * fastify's `frameworkErrors`: errors raised while routing, before any hook runs (a URL
 * that does not decode, a path parameter over `maxParamLength`), in the error shape. A
 * parameter too long keeps its 414 status; its code is `invalid_request`.
 */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const message = `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`;
    void reply.code(414).send({ error: { code: 'invalid_request', message, details: [] } });
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply
      .code(400)
      .send({ error: { code: 'invalid_request', message: 'the URL is not valid', details: [] } });
    return;
  }
  request.log.error({ err: error }, 'routing error');
  void reply
    .code(500)
    .send({ error: { code: 'internal_error', message: 'internal error', details: [] } });
}

/** Longest path parameter (fastify's default); ids are 36 characters. */
export const MAX_PARAM_LENGTH = 100;

/** The single error handler: AppErrors as they are, fastify's errors mapped, the rest a plain 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toAppError(error);
    if (!known) {
      request.log.error({ err: error }, 'unhandled error');
      return reply
        .code(500)
        .send({ error: { code: 'internal_error', message: 'internal error', details: [] } });
    }
    if (known.status >= 500) request.log.warn({ err: error }, known.message);
    return reply
      .code(known.status)
      .headers(known.headers)
      .send({ error: { code: known.code, message: known.message, details: known.details } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'not_found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        details: [],
      },
    }),
  );
}
