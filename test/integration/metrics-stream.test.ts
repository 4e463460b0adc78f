import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsDocument } from '../../src/analytics/index.ts';
import { MetricsStreams, streamMetrics } from '../../src/analytics/stream.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { waitUntil } from '../support/resilience.ts';

/** Reads Server-Sent Events from a fetch body, one `{event, data}` at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(
    timeoutMs = 10_000,
  ): Promise<{ event: string; data: string } | { comment: string }> {
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
        payload: {
          title: 'Live',
          fields: [{ key: 'dept', type: 'select', options: ['IT', 'HR'] }],
        },
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
    expect(JSON.parse((first as { data: string }).data)).toMatchObject({
      form_id: form.id,
      total: 0,
    });

    for (const dept of ['IT', 'HR', 'IT']) {
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${form.id}/responses`,
        payload: { data: { dept } },
      });
    }
    let latest = { total: 0 } as {
      total: number;
      fields: { dept: { counts: Record<string, number> } };
    };
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
    const form = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key: a.key,
        payload: { title: 'x', fields: [] },
      })
    ).json();
    const other = await fetch(`${base}/analytics/forms/${form.id}/stream`, {
      headers: { authorization: `Bearer ${b.key}` },
    });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await fetch(`${base}/analytics/forms/${form.id}/stream`)).status).toBe(401);
  });

  it('ends open streams when the app closes, so shutdown does not wait for their clients', async () => {
    const other = await startHub();
    await other.app.listen({ port: 0, host: '127.0.0.1' });
    const address = other.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { key } = await other.workspace();
    const form = (
      await other.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'Closing', fields: [] },
      })
    ).json();
    const res = await fetch(`http://127.0.0.1:${port}/api/v2/analytics/forms/${form.id}/stream`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const next = sseReader(res.body!);
    expect(await next()).toMatchObject({ event: 'metrics' });
    const started = Date.now();
    const closed = other.close().then(() => 'closed' as const);
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), 10_000).unref(),
    );
    expect(await Promise.race([closed, timeout])).toBe('closed');
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(next(2_000)).rejects.toThrow('stream ended');
  });
});

describe('metrics stream back-pressure', () => {
  /** A metrics document padded to about `bytes`, so that a few of them fill the socket buffers. */
  const bigDocument = (bytes: number): MetricsDocument =>
    ({
      form_id: 'f',
      total: 1,
      completed: 1,
      partial: 0,
      today: 1,
      completion_rate: 1,
      timeseries: { hour: [], day: [], month: [] },
      fields: { padding: { answered: 1, counts: { [`x${'y'.repeat(bytes)}`]: 1 } } },
    }) as MetricsDocument;

  it('drops a client that stops reading, holding at most one document for it, and keeps one that reads', async () => {
    const DOCUMENT = 512 * 1024;
    const document = bigDocument(DOCUMENT);
    const streams = new MetricsStreams();
    const listeners = new Set<() => void>();
    const responses: ServerResponse[] = [];
    const app = Fastify();
    app.get('/stream', (request, reply) => {
      responses.push(reply.raw);
      return streamMetrics(
        reply,
        async () => document,
        (onChange) => {
          listeners.add(onChange);
          return () => listeners.delete(onChange);
        },
        { minIntervalMs: 10, drainTimeoutMs: 500 },
        streams,
      );
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      // The slow client: sends its request, then never reads.
      const slow = connect(port, '127.0.0.1');
      slow.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      slow.pause();
      let slowClosed = false;
      const slowGone = new Promise<void>((resolve) => slow.once('close', resolve));
      slow.on('close', () => (slowClosed = true));
      slow.on('error', () => undefined);
      // The reading client: counts the events it receives.
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/stream`, { signal: controller.signal });
      const next = sseReader(res.body!);
      let received = 0;
      const reading = (async () => {
        for (;;) {
          const event = await next(30_000).catch(() => undefined);
          if (!event) return;
          if ('event' in event) received += 1;
        }
      })();
      // Both streams are open once the server has registered them (the slow client's request
      // may still be on its way): wait for that, not for a guessed time.
      await waitUntil(() => streams.size === 2, 20_000, 'both streams open', 10);
      expect(streams.size).toBe(2);

      let maxBuffered = 0;
      const deadline = Date.now() + 20_000;
      while (streams.dropped === 0 && Date.now() < deadline) {
        for (const notify of listeners) notify();
        for (const raw of responses) maxBuffered = Math.max(maxBuffered, raw.writableLength);
        await new Promise((r) => setTimeout(r, 15));
      }
      expect(streams.dropped).toBe(1);
      expect(streams.size).toBe(1);
      // Never more than the one document that found the socket full (plus what was under the high-water mark).
      expect(maxBuffered).toBeLessThan(DOCUMENT + 64 * 1024 + 16 * 1024);
      slow.resume();
      // The server ended the dropped stream: the socket closes (a deadline only as a last guard).
      await Promise.race([slowGone, new Promise((r) => setTimeout(r, 20_000).unref())]);
      expect(slowClosed).toBe(true);

      // The reader keeps getting fresh documents after the slow one is gone.
      const before = received;
      for (let i = 0; i < 10; i += 1) {
        for (const notify of listeners) notify();
        await new Promise((r) => setTimeout(r, 30));
      }
      const until = Date.now() + 5_000;
      while (received <= before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(received).toBeGreaterThan(before);
      expect(streams.size).toBe(1);
      controller.abort();
      await reading;
    } finally {
      streams.closeAll();
      await app.close();
    }
  });
});
