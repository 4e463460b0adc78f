import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import EchoPlugin from '../../plugins/echo/index.ts';
import WebhookPlugin from '../../connectors/webhook/index.ts';
import {
  generateWebhookSecret,
  runPlugin,
  sampleEvent,
  verifyWebhookSignature,
} from '../src/index.ts';

describe('runPlugin harness', () => {
  const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let status = 200;
  let base = '';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(status, { 'retry-after': '7' }).end('{"ok":true}');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('runs the example plugin against a local server and records the exchange', async () => {
    const event = sampleEvent({ data: { email: 'ada@example.com' } });
    const result = await runPlugin(new EchoPlugin(), {
      config: { url: `${base}/in`, summary: 'Hello from {{form.title}}', token: 't0k' },
      event,
    });
    expect(result.ok).toBe(true);
    expect(result.requests).toHaveLength(1);
    const last = seen[seen.length - 1]!;
    expect(JSON.parse(last.body)).toEqual({
      summary: 'Hello from Contact form',
      response_id: event.response.id,
      answers: { email: 'ada@example.com' },
    });
    expect(last.headers.authorization).toBe('Bearer t0k');
    expect(result.logs.map((l) => l.message)).toContain('echoed');
  });

  it('reports the error a plugin throws, with Retry-After', async () => {
    status = 429;
    const result = await runPlugin(new EchoPlugin(), { config: { url: `${base}/in` } });
    status = 200;
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({
      name: 'RetryableError',
      statusCode: 429,
      retryAfterMs: 7000,
    });
  });

  it('signs webhook payloads so that verifyWebhookSignature accepts them', async () => {
    const secret = generateWebhookSecret();
    const result = await runPlugin(new WebhookPlugin(), {
      config: { url: `${base}/hook` },
      signingSecrets: [secret],
    });
    expect(result.ok).toBe(true);
    const last = seen[seen.length - 1]!;
    expect(verifyWebhookSignature({ secret, headers: last.headers, body: last.body })).toBe(true);
    expect(
      verifyWebhookSignature({
        secret: generateWebhookSecret(),
        headers: last.headers,
        body: last.body,
      }),
    ).toBe(false);
  });
});
