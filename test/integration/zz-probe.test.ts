import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver } from '../support/receiver.ts';

let hub: TestHub;
let key: string;
beforeAll(async () => {
  hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms' }, { worker: true });
  key = (await hub.workspace()).key;
});
afterAll(async () => hub.close());

it('probe', async () => {
  const r = await startReceiver();
  const form = (await hub.request({ method: 'POST', url: '/api/v2/forms', key, payload: { title: 'P', fields: [{ key: 'name', type: 'text' }] } })).json();
  const a = await hub.request({ method: 'POST', url: `/api/v2/forms/${form.id}/webhooks`, key, payload: { url: r.url, template: null } });
  console.log('create null', a.statusCode, a.body);
  const b = await hub.request({ method: 'POST', url: `/api/v2/forms/${form.id}/webhooks`, key, payload: { url: r.url, template: { x: '{{data.name}}' } } });
  const p = await hub.request({ method: 'PATCH', url: `/api/v2/webhooks/${b.json().id}`, key, payload: { template: null } });
  console.log('patch null', p.statusCode, p.body);
  await hub.request({ method: 'POST', url: `/api/v2/forms/${form.id}/responses`, payload: { data: { name: 'n' } } });
  const reqs = await r.waitFor(2);
  for (const q of reqs) console.log('BODY', q.body.slice(0, 200));
  // integrations get for webhook
  const g = await hub.request({ method: 'GET', url: `/api/v2/integrations/${b.json().id}`, key });
  console.log('integration view', g.statusCode, g.body);
  const t = await hub.request({ method: 'POST', url: `/api/v2/integrations/${b.json().id}/test`, key });
  console.log('integration test', t.statusCode, t.body.slice(0,200));
  await r.close();
  expect(1).toBe(1);
});
