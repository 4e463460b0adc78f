import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptAbort } from '../../src/delivery/attempt-abort.ts';
import { RecordingClient } from '../../src/delivery/http-client.ts';

/** The plugins' HTTP client and the attempt's abort switch, against a real server on 127.0.0.1. */
describe('RecordingClient and AttemptAbort', () => {
  let server: Server;
  let base: string;
  const agent = new Agent();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.writeHead(201, { 'content-type': 'text/plain', 'x-multi': ['a', 'b'] });
      res.end(`héllo ${req.method}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await agent.close();
  });

  it('answers status, flattened headers and body, records the exchange, and works unbound', async () => {
    const client = new RecordingClient(agent, new AttemptAbort());
    const { request } = client; // as a fetch adapter would take it
    const res = await request({ url: `${base}/x`, method: 'POST', body: '{}' });
    expect(res.status).toBe(201);
    expect(res.body).toBe('héllo POST');
    expect(res.headers['x-multi']).toBe('a, b');
    expect({ ...res }).toMatchObject({ status: 201, body: 'héllo POST' }); // spread keeps the lazy fields
    expect(client.exchanges).toEqual([
      { statusCode: 201, latencyMs: expect.any(Number), excerpt: 'héllo POST' },
    ]);
  });

  it('aborts a request in flight, and any request made after, with the reason given', async () => {
    const abort = new AttemptAbort();
    const client = new RecordingClient(agent, abort);
    const pending = client.request({ url: `${base}/hang` });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reason = Object.assign(new Error('no answer within 50 ms'), { code: 'ETIMEDOUT' });
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(client.request({ url: `${base}/x` })).rejects.toBe(reason);
  });

  it('makes a real AbortSignal only when asked, aborted with the switch', () => {
    const abort = new AttemptAbort();
    const signal = abort.signal;
    expect(signal.aborted).toBe(false);
    abort.abort('late');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('late');
    const after = new AttemptAbort();
    after.abort('early');
    expect(after.signal.aborted).toBe(true); // made after the abort: aborted at once
    expect(after.signal.reason).toBe('early');
  });
});
