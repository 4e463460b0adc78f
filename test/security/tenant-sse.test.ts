import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

/** Reads a fetch body as Server-Sent Events blocks; `null` once the server has ended it. */
function blocks(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(): Promise<string | null> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return block;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

/** Reads blocks until one satisfies `match` (or the stream ends: null). */
async function until(
  next: () => Promise<string | null>,
  match: (block: string) => boolean,
): Promise<string | null> {
  for (;;) {
    const block = await next();
    if (block === null || match(block)) return block;
  }
}

/**
 * Issue #13, attack 5: an analytics stream went on after its key was revoked. The hub
 * re-checks the key every STREAM_KEY_CHECK (30 s by default, inside DESIGN's 60 s); the
 * test shortens it so that it waits for the stream's end, not for a clock.
 */
describe('an SSE stream ends after its key is revoked', () => {
  let hub: TestHub;
  let base: string;

  beforeAll(async () => {
    hub = await startHub({ STREAM_KEY_CHECK: '100ms' }, { worker: true });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const address = hub.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v2`;
  });
  afterAll(async () => hub?.close());

  it('the revoked key’s stream ends; a stream on a live key goes on', async () => {
    const { key } = await hub.workspace();
    const second = await hub.request({
      method: 'POST',
      url: '/api/v2/api-keys',
      key,
      payload: { name: 'dashboard' },
    });
    expect(second.statusCode, second.body).toBe(201);
    const revocable = second.json() as { id: string; key: string };
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Live', fields: [{ key: 'name', type: 'text' }] },
    });
    const formId = (form.json() as { id: string }).id;

    const controller = new AbortController();
    const open = async (bearer: string) => {
      const res = await fetch(`${base}/analytics/forms/${formId}/stream`, {
        headers: { authorization: `Bearer ${bearer}` },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const next = blocks(res.body!);
      expect(await until(next, (b) => b.startsWith('event: metrics'))).not.toBeNull();
      return next;
    };
    try {
      const doomed = await open(revocable.key);
      const kept = await open(key);

      const revoked = await hub.request({
        method: 'DELETE',
        url: `/api/v2/api-keys/${revocable.id}`,
        key,
      });
      expect(revoked.statusCode, revoked.body).toBeLessThan(300);
      // The server ends the stream (the read sees its end), saying why first.
      const blocksLeft: string[] = [];
      for (let block = await doomed(); block !== null; block = await doomed())
        blocksLeft.push(block);
      expect(blocksLeft.at(-1)).toMatch(/^: the API key is no longer valid/);
      // The key itself is refused too.
      const again = await fetch(`${base}/analytics/forms/${formId}/stream`, {
        headers: { authorization: `Bearer ${revocable.key}` },
      });
      expect(again.status).toBe(401);

      // The other stream, checked just as often, is alive: it sends the next change.
      const sub = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { name: 'a' } },
      });
      expect(sub.statusCode).toBe(201);
      const update = await until(
        kept,
        (b) => b.startsWith('event: metrics') && b.includes('"total":1'),
      );
      expect(update).not.toBeNull();
    } finally {
      controller.abort();
    }
  });
});
