import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

describe('operations endpoints', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(async () => hub.close());

  it('answers /healthz and /readyz', async () => {
    expect((await hub.request({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    const ready = await hub.request({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await hub.request({ method: 'GET', url: '/api/v2/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v2/workspaces',
      '/api/v2/api-keys',
      '/api/v2/api-keys/{id}',
      '/api/v2/forms',
      '/api/v2/forms/{id}',
      '/api/v2/forms/{id}/schema',
      '/api/v2/forms/{id}/responses',
      '/api/v2/forms/{id}/responses/import',
      '/api/v2/responses/{id}',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const createForm = doc.paths['/api/v2/forms']!.post!;
    expect(JSON.stringify(createForm.requestBody)).toContain('calculated_fields');
    expect(createForm.responses).toHaveProperty('422');
  });

  it('renders the reference at /docs', async () => {
    const res = await hub.request({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });

  it('exposes Prometheus metrics by route', async () => {
    await hub.request({
      method: 'GET',
      url: '/api/v2/forms/00000000-0000-7000-8000-000000000000/schema',
    });
    const res = await hub.request({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /formhub_http_requests_total\{method="GET",route="\/api\/v2\/forms\/:id\/schema",status_code="404"\} 1/,
    );
    expect(res.body).toContain('formhub_http_request_duration_seconds_bucket');
  });

  it('echoes a caller request id and answers unknown routes with the error shape', async () => {
    const res = await hub.request({
      method: 'GET',
      url: '/api/v2/nope',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.json()).toMatchObject({ error: { code: 'not_found', details: [] } });
  });
});
