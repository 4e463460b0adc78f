import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/common/ids.ts';
import { createGuardedAgent } from '../../src/net/index.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

/** Targets refused at create time without WEBHOOK_ALLOW_PRIVATE_TARGETS. */
const REFUSED = [
  'http://127.0.0.1:1/',
  'http://localhost/',
  'http://10.0.0.1/',
  'http://192.168.1.1/',
  'http://172.16.0.1/',
  'http://169.254.169.254/latest/meta-data',
  'http://100.64.0.1/',
  'http://[::1]/',
  'http://[fd00::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://0x7f.1/',
  'ftp://example.com/',
  'http://user:pw@example.com/',
  // More spellings of the same places.
  'http://0.0.0.0/',
  'http://2130706433/',
  'http://127.1/',
  'http://foo.localhost/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://[::]/',
  'http://[fe80::1]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'javascript:alert(1)',
  'not a url',
];

describe('SSRF guard (WEBHOOK_ALLOW_PRIVATE_TARGETS unset)', () => {
  let hub: TestHub;
  let key: string;
  let workspaceId: string;
  let formId: string;

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_RETRY_SCHEDULE: '100ms', WEBHOOK_TIMEOUT_MS: '1000' },
      { worker: true },
    );
    expect(hub.config.webhooks.allowPrivateTargets).toBe(false);
    const ws = await hub.workspace();
    key = ws.key;
    workspaceId = ws.id;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Guarded', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = (form.json() as { id: string }).id;
  });
  afterAll(async () => hub?.close());

  describe('at create time', () => {
    it.each(REFUSED)('refuses a webhook to %s with 422 on url', async (url) => {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url },
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details)).toEqual(['url']);
      expect(details[0]!.message.length).toBeGreaterThan(0);
    });

    it('created none of them, while a public target is accepted', async () => {
      const list = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
      });
      expect(list.json().data).toEqual([]);
      const ok = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: 'https://hooks.example.com/formhub', active: false },
      });
      expect(ok.statusCode, ok.body).toBe(201);
      const id = (ok.json() as { id: string }).id;
      expect(
        (await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${id}`, key })).statusCode,
      ).toBe(204);
    });

    it('refuses a private address on PATCH too', async () => {
      const ok = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: 'https://hooks.example.com/patched', active: false },
      });
      const id = (ok.json() as { id: string }).id;
      const res = await hub.request({
        method: 'PATCH',
        url: `/api/v2/webhooks/${id}`,
        key,
        payload: { url: 'http://10.1.2.3/' },
      });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['url']);
      const still = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${id}`, key });
      expect(still.json().url).toBe('https://hooks.example.com/patched');
      await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${id}`, key });
    });

    it('refuses a private Zapier target_url', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/zapier/hooks',
        key,
        payload: {
          target_url: 'http://169.254.169.254/',
          event: 'response.submitted',
          form_id: formId,
        },
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details).some((f) => f.includes('target_url'))).toBe(true);
    });
  });

  describe('at delivery time', () => {
    let server: Server;
    let port: number;
    let hits = 0;

    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits += 1;
        res.end('reached');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : 0;
    });
    afterAll(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );

    it('the guarded agent refuses a host name that resolves to loopback, before connecting', async () => {
      const agent = createGuardedAgent({ allowPrivate: false, timeoutMs: 2_000 });
      try {
        const error = await request(`http://localhost:${port}/`, {
          method: 'POST',
          body: '{}',
          dispatcher: agent,
        }).then(
          () => undefined,
          (e: unknown) => e as { code?: string; message?: string },
        );
        expect(error).toBeDefined();
        expect(error!.code).toBe('EBLOCKEDADDRESS');
        expect(error!.message).toBe('target address not allowed');
        // IP literals are never looked up: they are classified before connecting.
        for (const host of ['127.0.0.1', '0.0.0.0', '[::1]', '[::ffff:127.0.0.1]']) {
          const literal = await request(`http://${host}:${port}/`, { dispatcher: agent }).then(
            () => undefined,
            (e: unknown) => e as { code?: string },
          );
          expect(literal?.code, host).toBe('EBLOCKEDADDRESS');
        }
      } finally {
        await agent.close();
      }
      expect(hits).toBe(0);
      // Control: the same server is reachable when private targets are allowed.
      const open = createGuardedAgent({ allowPrivate: true, timeoutMs: 2_000 });
      try {
        const res = await request(`http://localhost:${port}/`, { dispatcher: open });
        expect(await res.body.text()).toBe('reached');
      } finally {
        await open.close();
      }
      expect(hits).toBe(1);
    });

    it('a webhook whose target turned private after creation is refused by the worker', async () => {
      const receiver: Receiver = await startReceiver();
      try {
        // Simulates targets that resolved publicly at creation and privately later: an IP
        // literal (checked before connecting) and a host name (checked after DNS).
        const box = new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64'));
        const byName = receiver.url.replace('127.0.0.1', 'localhost');
        const ids: string[] = [];
        for (const url of [receiver.url, byName]) {
          const id = uuidv7();
          ids.push(id);
          await hub.db.query(
            `INSERT INTO integrations (id, workspace_id, form_id, connector, events, config_sealed, secret_sealed)
             VALUES ($1, $2, $3, 'webhook', '{response.submitted}', $4, $5)`,
            [
              id,
              workspaceId,
              formId,
              box.sealJson({ url }),
              box.seal(`whsec_${randomBytes(32).toString('base64')}`),
            ],
          );
        }
        const sub = await hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/responses`,
          payload: { data: { name: 'x' } },
        });
        expect(sub.statusCode, sub.body).toBe(201);
        for (const id of ids) {
          const [delivery] = await settledDeliveries(hub, key, id);
          expect(delivery!.status).toBe('dead');
          expect(delivery!.next_attempt_at).toBeNull();
          expect(delivery!.attempts.map((a) => a.number)).toEqual([1, 2]);
          for (const attempt of delivery!.attempts) {
            expect(attempt.status_code).toBe(0);
            expect(attempt.response_excerpt).toBeNull();
            expect(attempt.error).toContain('target address not allowed');
            expect(attempt.error).not.toMatch(/127\.0\.0\.1|::1|localhost|loopback/);
          }
        }
        expect(receiver.requests).toHaveLength(0);
      } finally {
        await receiver.close();
      }
    });
  });
});
