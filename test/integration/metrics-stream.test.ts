import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

/** Reads Server-Sent Events from a fetch body, one `{event, data}` at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(timeoutMs = 10_000): Promise<{ event: string; data: string } | { comment: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) return { comment: block.slice(1).trim() };
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
        return { event, data };
      }
      if (Date.now() > deadline) throw new Error('no event in time');
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

describe('metrics stream (SSE)', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await startHub({}, { worker: true });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const address = hub.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v2`;
  });
  afterAll(async () => hub.close());

  it('sends metrics on connect and again after each change', async () => {
    const { key } = await hub.workspace();
    const form = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'Live', fields: [{ key: 'dept', type: 'select', options: ['IT', 'HR'] }] },
      })
    ).json();
    const controller = new AbortController();
    const res = await fetch(`${base}/analytics/forms/${form.id}/stream`, {
      headers: { authorization: `Bearer ${key}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const next = sseReader(res.body!);
    const first = await next();
    expect(first).toMatchObject({ event: 'metrics' });
    expect(JSON.parse((first as { data: string }).data)).toMatchObject({ form_id: form.id, total: 0 });

    for (const dept of ['IT', 'HR', 'IT']) {
      await hub.request({ method: 'POST', url: `/api/v2/forms/${form.id}/responses`, payload: { data: { dept } } });
    }
    let latest = { total: 0 } as { total: number; fields: { dept: { counts: Record<string, number> } } };
    const started = Date.now();
    while (latest.total < 3) {
      const event = await next();
      if ('data' in event) latest = JSON.parse(event.data);
    }
    expect(latest.fields.dept.counts).toEqual({ IT: 2, HR: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    controller.abort();
  });

  it('answers 404 for another workspace and 401 without a key, before streaming', async () => {
    const a = await hub.workspace('a');
    const b = await hub.workspace('b');
    const form = (await hub.request({ method: 'POST', url: '/api/v2/forms', key: a.key, payload: { title: 'x', fields: [] } })).json();
    const other = await fetch(`${base}/analytics/forms/${form.id}/stream`, { headers: { authorization: `Bearer ${b.key}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await fetch(`${base}/analytics/forms/${form.id}/stream`)).status).toBe(401);
  });
});
