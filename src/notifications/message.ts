import type { OperationalEventType } from './channel-input.ts';

/** An operational event as stored, with the integration's URL when it has one (a webhook). */
export interface OperationalEvent {
  id: string;
  workspace_id: string;
  type: OperationalEventType;
  integration_id: string;
  connector: string;
  delivery_id: string | null;
  delivery_event: string | null;
  reason: string | null;
  created_at: Date;
  integration_url?: string | undefined;
}

/** What every channel is sent, the body of a webhook channel's POST (docs/notifications.md). */
export interface OperationalPayload {
  type: OperationalEventType;
  id: string;
  created_at: string;
  workspace_id: string;
  integration: { id: string; connector: string; url?: string };
  delivery?: { id: string; event: string };
  reason?: string;
}

/** The payload of an event. Pure. */
export function payloadOf(event: OperationalEvent): OperationalPayload {
  return {
    type: event.type,
    id: event.id,
    created_at: event.created_at.toISOString(),
    workspace_id: event.workspace_id,
    integration: {
      id: event.integration_id,
      connector: event.connector,
      ...(event.integration_url ? { url: event.integration_url } : {}),
    },
    ...(event.delivery_id
      ? { delivery: { id: event.delivery_id, event: event.delivery_event ?? '' } }
      : {}),
    ...(event.reason ? { reason: event.reason } : {}),
  };
}

/** One line naming the change, for an e-mail subject and a Slack message's first line. */
export function headline(payload: OperationalPayload): string {
  const who = `${payload.integration.connector} integration ${payload.integration.id}`;
  switch (payload.type) {
    case 'integration.disabled':
      return `The ${who} was disabled`;
    case 'integration.recovered':
      return `The ${who} recovered`;
    case 'delivery.dead':
      return `A delivery of the ${who} is dead`;
  }
}

/** The facts of an event, one `name: value` line each. */
function facts(payload: OperationalPayload): string[] {
  return [
    `Event: ${payload.type}`,
    `At: ${payload.created_at}`,
    `Workspace: ${payload.workspace_id}`,
    `Integration: ${payload.integration.id} (${payload.integration.connector})`,
    ...(payload.integration.url ? [`URL: ${payload.integration.url}`] : []),
    ...(payload.delivery ? [`Delivery: ${payload.delivery.id} (${payload.delivery.event})`] : []),
    ...(payload.reason ? [`Reason: ${payload.reason}`] : []),
  ];
}

/** What to do next, per type. */
const ADVICE: Record<OperationalEventType, string> = {
  'integration.disabled':
    'Nothing more is delivered to it until it is turned on again (PATCH it with "active": true).',
  'integration.recovered': 'A delivery succeeded after failures; its failure clock is cleared.',
  'delivery.dead':
    'Its retry schedule is spent. Replay it with POST /api/v2/deliveries/{id}/replay.',
};

/** The e-mail of an event: `[formhub] <headline>` and a plain-text body. Pure. */
export function emailOf(payload: OperationalPayload): { subject: string; text: string } {
  return {
    subject: `[formhub] ${headline(payload)}`,
    text: [
      `${headline(payload)}.`,
      '',
      ...facts(payload),
      '',
      ADVICE[payload.type],
      '',
      `Event id: ${payload.id}`,
    ].join('\n'),
  };
}

/**
 * The Slack message of an event (mrkdwn text). `&`, `<` and `>` are escaped as Slack asks,
 * so a reason or URL can never become a mention (`<!channel>`) or a link. Pure.
 */
export function slackTextOf(payload: OperationalPayload): string {
  const mark = payload.type === 'integration.recovered' ? ':white_check_mark:' : ':warning:';
  return [
    `${mark} *${slackEscape(headline(payload))}*`,
    ...facts(payload).map((line) => `• ${slackEscape(line)}`),
    slackEscape(ADVICE[payload.type]),
  ].join('\n');
}

function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
