import { request } from './api.ts';

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits a byte stream into events (fields `event:` and `data:`; comment lines, starting
 * with `:`, are skipped). Pure apart from reading the stream.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (name === 'event') event = value;
          else if (name === 'data') data.push(value);
        }
        if (data.length > 0) yield { event, data: data.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export type StreamState = 'connecting' | 'live' | 'reconnecting';

/**
 * Follows a form's metrics stream with fetch (so the key travels in the Authorization
 * header; EventSource cannot send one), reconnecting with a growing delay until `signal`
 * aborts. Errors the API answered (401, 404) stop it and go to `onError`.
 */
export async function followMetrics<T>(
  formId: string,
  handlers: {
    onMetrics(document: T): void;
    onState(state: StreamState): void;
    onError(error: unknown): void;
  },
  signal: AbortSignal,
): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const res = await request(`/analytics/forms/${formId}/stream`, {
        signal,
        headers: { accept: 'text/event-stream' },
      });
      handlers.onState('live');
      delay = 1000;
      for await (const event of readEvents(res.body!)) {
        if (event.event === 'metrics') handlers.onMetrics(JSON.parse(event.data) as T);
      }
    } catch (error) {
      if (signal.aborted) return;
      const status = (error as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) return handlers.onError(error);
    }
    if (signal.aborted) return;
    handlers.onState('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15_000);
  }
}
