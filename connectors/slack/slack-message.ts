import { PermanentError, renderTemplate, TemplateRenderError, type FormEvent } from '@formhub/sdk';

/** The Slack connector's config (`configSchema` in index.ts). */
export interface SlackConfig {
  /** A channel name (`#form-alerts`) or id (`C0123456789`). */
  channel: string;
  /** Mustache over `{event, form, response, data}`. */
  text: string;
  /** Block Kit blocks; every string in them is a mustache template like `text`. */
  blocks?: unknown[];
  token?: string;
}

/** Slack message metadata: how a message names the delivery that posted it. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string>;
}

/** What chat.postMessage is given besides the channel. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
  metadata: MessageMetadata;
}

/** `text` when an admin gives none (the schema requires one; this is its suggestion). */
export const DEFAULT_TEXT = 'New response: {{form.title}}';

/**
 * Escapes Slack's three control characters. Answers come from the public, so a value such
 * as `<!channel>` or `<https://evil|bank>` must show as typed, not ping or disguise a link.
 *
 * @example escapeSlack('<!here> & co'); // '&lt;!here&gt; &amp; co'
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Every string of a JSON value escaped for Slack; other values unchanged. */
function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeSlack(value);
  if (Array.isArray(value)) return value.map(escapeDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeDeep(item)]));
  }
  return value;
}

/**
 * The view templates render over: `{event, form, response, data}` as everywhere in the hub
 * (`ctx.render`), with every value escaped for Slack. The template's own text is not
 * escaped, so an admin may still write `<!here>` or `<https://example.com|links>` in it.
 */
function slackView(event: FormEvent): object {
  return escapeDeep({
    event: event.type,
    form: event.form,
    response: event.response,
    data: event.data,
  }) as object;
}

/** Renders a template, turning a broken one into a permanent failure that names it. */
function render(template: unknown, view: object, what: string): unknown {
  try {
    return renderTemplate(template, view);
  } catch (error) {
    if (error instanceof TemplateRenderError) {
      throw new PermanentError(`the ${what} template: ${error.message}`);
    }
    throw new PermanentError(
      `the ${what} template is not valid mustache: ${(error as Error).message}`,
    );
  }
}

function metadata(kind: string, event: FormEvent, deliveryId: string): MessageMetadata {
  const payload: Record<string, string> = {
    delivery_id: deliveryId,
    event: event.type,
    form_id: event.form.id,
  };
  if (kind === 'formhub_response') payload.response_id = event.response.id;
  return { event_type: kind, event_payload: payload };
}

/**
 * The message for a response event: the config's text (and blocks) rendered over the event.
 *
 * @example responseMessage(event, { channel: '#a', text: 'New: {{data.name}}' }, 'dlv_1').text; // 'New: Ada'
 */
export function responseMessage(
  event: FormEvent,
  config: SlackConfig,
  deliveryId: string,
): SlackMessage {
  const view = slackView(event);
  const text = render(config.text ?? DEFAULT_TEXT, view, 'text');
  const message: SlackMessage = {
    text: String(text ?? ''),
    metadata: metadata('formhub_response', event, deliveryId),
  };
  if (config.blocks !== undefined) {
    const blocks = render(config.blocks, view, 'blocks');
    if (!Array.isArray(blocks))
      throw new PermanentError('the blocks template must render to an array of blocks');
    message.blocks = blocks;
  }
  return message;
}

/**
 * The alert for an `analytics.anomaly` event. Built in code: the anomaly is not part of
 * the `{event, form, response, data}` view that response templates see.
 *
 * @example anomalyMessage(event, 'dlv_1').text; // ':warning: Contact: 97 responses on 2026-11-27, expected about 40'
 */
export function anomalyMessage(event: FormEvent, deliveryId: string): SlackMessage {
  const anomaly = event.anomaly;
  if (!anomaly) throw new PermanentError('an analytics.anomaly event without its anomaly');
  const expected = Math.round(anomaly.expected);
  const text = `:warning: ${escapeSlack(event.form.title)}: ${anomaly.count} responses on ${anomaly.date}, expected about ${expected}`;
  return { text, metadata: metadata('formhub_anomaly', event, deliveryId) };
}

/** The message of `POST /integrations/:id/test`. */
export function testMessage(event: FormEvent, deliveryId: string): SlackMessage {
  const text = `:white_check_mark: Test message from formhub: responses to ${escapeSlack(event.form.title)} will be posted here.`;
  return { text, metadata: metadata('formhub_test', event, deliveryId) };
}

/**
 * The delivery id a message carries in its metadata, if formhub posted it.
 *
 * @example postedBy({ metadata: { event_type: 'formhub_response', event_payload: { delivery_id: 'd1' } } }); // 'd1'
 */
export function postedBy(message: {
  metadata?: { event_type?: string; event_payload?: unknown };
}): string | undefined {
  const type = message.metadata?.event_type;
  if (typeof type !== 'string' || !type.startsWith('formhub_')) return undefined;
  const id = (message.metadata?.event_payload as { delivery_id?: unknown } | undefined)
    ?.delivery_id;
  return typeof id === 'string' ? id : undefined;
}
