import type { ErrorDetail } from '../errors/index.ts';
import { PUBLIC_EVENT_TYPES } from '../events/index.ts';
import { checkTargetUrl } from '../net/index.ts';
import { templateBoundIssues, validateTemplate } from '@formhub/sdk';
import { MASKED } from './masked-headers.ts';

/** Headers a webhook may not set: the transport's and the signature's own. */
const RESERVED_HEADER =
  /^(host|content-length|content-type|transfer-encoding|connection|x-webhook-.*|webhook-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** The events an integration subscribes to: a non-empty list of public event types. */
export function checkEvents(events: unknown, field: string, details: ErrorDetail[]): string[] {
  if (!Array.isArray(events) || events.length === 0) {
    details.push({ field, message: 'must be a non-empty list of events' });
    return [];
  }
  const bad = events.filter((e) => !PUBLIC_EVENT_TYPES.includes(e as never));
  if (bad.length > 0) {
    details.push({
      field,
      message: `unknown events: ${bad.join(', ')} (known: ${PUBLIC_EVENT_TYPES.join(', ')})`,
    });
  }
  return [...new Set(events as string[])];
}

/** A target URL: http(s), no credentials, and not a private address unless allowed. */
export function checkUrl(
  url: unknown,
  field: string,
  allowPrivate: boolean,
  details: ErrorDetail[],
): string {
  if (typeof url !== 'string' || url.length > 2048) {
    details.push({ field, message: 'must be a URL of at most 2048 characters' });
    return '';
  }
  const check = checkTargetUrl(url, allowPrivate);
  if (!check.ok) details.push({ field, message: check.reason });
  return check.ok ? check.url.toString() : url;
}

/** A payload template: every string must parse as mustache (422 at create time). */
export function checkTemplate(template: unknown, field: string, details: ErrorDetail[]): void {
  for (const issue of validateTemplate(template)) {
    details.push({
      field: issue.path ? `${field}.${issue.path}`.replace('.[', '[') : field,
      message: issue.message,
    });
  }
}

/**
 * A connector's config, whose strings may be mustache templates (Slack's `text` and
 * `blocks`): the template bounds hold for all of it (64 KB, 4 nested sections).
 */
export function checkTemplateBounds(config: unknown, field: string, details: ErrorDetail[]): void {
  for (const issue of templateBoundIssues(config)) {
    details.push({
      field: issue.path ? `${field}.${issue.path}`.replace('.[', '[') : field,
      message: issue.message,
    });
  }
}

/** Custom headers: string values, valid names, none of the reserved ones. */
export function checkHeaders(
  headers: unknown,
  field: string,
  details: ErrorDetail[],
): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    details.push({ field, message: 'must be an object of header names to string values' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name))
      details.push({ field: `${field}.${name}`, message: 'is not a valid header name' });
    else if (RESERVED_HEADER.test(name))
      details.push({ field: `${field}.${name}`, message: 'is set by formhub' });
    else if (typeof value !== 'string' || /[\r\n]/.test(value) || value.length > 4096) {
      details.push({ field: `${field}.${name}`, message: 'must be a single-line string' });
    } else if (value === MASKED) {
      details.push({
        field: `${field}.${name}`,
        message: `"${MASKED}" keeps a stored value, and this header has none`,
      });
    } else out[name] = value;
  }
  return out;
}
