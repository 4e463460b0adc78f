import type { ErrorDetail } from '../errors/index.ts';
import { checkTargetUrl } from '../net/index.ts';

/** The operational events a channel can be told about (DESIGN.md section 4b). */
export const OPERATIONAL_EVENT_TYPES = [
  'integration.disabled',
  'integration.recovered',
  'delivery.dead',
] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export const CHANNEL_KINDS = ['email', 'webhook', 'slack'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** The body of `POST /notification-channels`, after the schema's shape check. */
export interface ChannelInput {
  kind: ChannelKind;
  target: string;
  events?: string[] | undefined;
  config?: { token?: string | undefined } | undefined;
}

/** A channel as validated: its target normalised, its events deduplicated. */
export interface CheckedChannel {
  kind: ChannelKind;
  target: string;
  events: OperationalEventType[];
  /** A Slack channel's bot token. */
  token: string | null;
}

/** One address, as simple as SMTP needs: no spaces, one `@`, a dotted domain. */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]+$/;
/** A Slack conversation id (public, private, DM) or user id. */
const SLACK_ID = /^[CGDUW][A-Z0-9]{6,}$/;
/** A Slack channel name: lower case letters, digits, `-`, `_`, `.`; up to 80; `#` optional. */
const SLACK_NAME = /^#?[a-z0-9][a-z0-9._-]{0,79}$/;

/**
 * Validates a new channel: the target per kind (an e-mail address; an http(s) URL that
 * passes the webhook SSRF guard; a Slack channel name or id), events a non-empty subset of
 * the operational events (all three when absent), and a Slack token for a Slack channel
 * only. Problems go to `details` (a 422); pure.
 *
 * @example checkChannel({ kind: 'email', target: 'ops@example.com' }, false, []).events.length // 3
 */
export function checkChannel(
  input: ChannelInput,
  allowPrivate: boolean,
  details: ErrorDetail[],
): CheckedChannel {
  const target = checkTarget(input.kind, input.target.trim(), allowPrivate, details);
  const events = [...new Set(input.events ?? OPERATIONAL_EVENT_TYPES)] as OperationalEventType[];
  if (events.length === 0)
    details.push({ field: 'events', message: 'must name at least one operational event' });
  const token = input.config?.token ?? null;
  if (input.kind === 'slack' && !token)
    details.push({ field: 'config.token', message: 'a Slack channel needs a bot token' });
  if (input.kind !== 'slack' && input.config !== undefined)
    details.push({ field: 'config', message: 'only a Slack channel takes a config' });
  return { kind: input.kind, target, events, token: input.kind === 'slack' ? token : null };
}

function checkTarget(
  kind: ChannelKind,
  target: string,
  allowPrivate: boolean,
  details: ErrorDetail[],
): string {
  const fail = (message: string) => {
    details.push({ field: 'target', message });
    return target;
  };
  if (kind === 'email') {
    if (target.length > 254 || !EMAIL.test(target)) return fail('must be one e-mail address');
    return target;
  }
  if (kind === 'slack') {
    if (!SLACK_ID.test(target) && !SLACK_NAME.test(target))
      return fail('must be a Slack channel name (#alerts) or id (C0123456)');
    return target;
  }
  const check = checkTargetUrl(target, allowPrivate);
  return check.ok ? check.url.toString() : fail(check.reason);
}
