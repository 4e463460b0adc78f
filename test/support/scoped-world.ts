import type { TestHub } from './hub.ts';
import { eventually } from './receiver.ts';

/** Every scope of DESIGN.md section 4b (kept apart from src/ on purpose: a second statement). */
export const ALL_SCOPES = [
  'forms:read',
  'forms:write',
  'responses:read',
  'responses:write',
  'integrations:read',
  'integrations:write',
  'analytics:read',
  'exports',
  'keys:write',
] as const;

/** One real object of each kind a route may name by `:id`, in one workspace. */
export interface SeededIds {
  form: string;
  response: string;
  webhook: string;
  integration: string;
  delivery: string;
  export: string;
  report: string;
  zapierHook: string;
  apiKey: string;
  notificationChannel: string;
  erasure: string;
}

export const FIELDS = [
  { key: 'name', type: 'text', label: 'Name' },
  { key: 'age', type: 'integer', min: 0, max: 150 },
];

/** Sends one request with `key`; throws unless it answered 2xx. */
export async function call(
  hub: TestHub,
  key: string,
  method: 'POST' | 'GET',
  url: string,
  payload?: unknown,
): Promise<Record<string, unknown>> {
  const res = await hub.request({
    method,
    url,
    key,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Record<string, unknown>;
}

/** Creates a key with these limits (with `key`, an unlimited one); answers the key. */
export async function scopedKey(
  hub: TestHub,
  key: string,
  limits: { scopes?: readonly string[]; form_ids?: readonly string[] },
): Promise<string> {
  const body = await call(hub, key, 'POST', '/api/v2/api-keys', { name: 'scoped', ...limits });
  return body.key as string;
}

/** One object of every kind, targets at `targetUrl` (nothing needs to listen there). */
export async function seedObjects(
  hub: TestHub,
  key: string,
  targetUrl: string,
): Promise<SeededIds> {
  const post = (url: string, payload?: unknown) => call(hub, key, 'POST', url, payload);
  const id = (body: Record<string, unknown>) => body.id as string;
  const form = id(await post('/api/v2/forms', { title: 'Scoped', fields: FIELDS }));
  const response = id(
    await post(`/api/v2/forms/${form}/responses`, { data: { name: 'Ada', age: 36 } }),
  );
  const webhook = id(await post(`/api/v2/forms/${form}/webhooks`, { url: targetUrl }));
  const integration = id(
    await post(`/api/v2/forms/${form}/integrations`, {
      connector: 'webhook',
      config: { url: targetUrl },
    }),
  );
  const delivery = id(await post(`/api/v2/webhooks/${webhook}/test`));
  const exportId = id(await post(`/api/v2/forms/${form}/exports`, { format: 'csv' }));
  // Finished before anything else starts one: a workspace runs 3 export jobs at a time.
  await eventually(async () => {
    const job = await call(hub, key, 'GET', `/api/v2/exports/${exportId}`);
    return job.status === 'succeeded' || job.status === 'failed' ? true : undefined;
  }, 60_000);
  const report = id(
    await post('/api/v2/scheduled-reports', {
      form_id: form,
      timezone: 'UTC',
      recipients: ['a@example.com'],
      format: 'csv',
      frequency: 'daily',
    }),
  );
  const zapierHook = id(
    await post('/api/v2/zapier/hooks', {
      target_url: `${targetUrl}?z=1`,
      event: 'response.submitted',
      form_id: form,
    }),
  );
  const apiKey = id(await post('/api/v2/api-keys', { name: 'spare' }));
  const notificationChannel = id(
    await post('/api/v2/notification-channels', { kind: 'webhook', target: targetUrl }),
  );
  const erasure = id(
    await post('/api/v2/erasures', { form_id: form, match: { 'data.name': { $eq: 'nobody' } } }),
  );
  return {
    form,
    response,
    webhook,
    integration,
    delivery,
    export: exportId,
    report,
    zapierHook,
    apiKey,
    notificationChannel,
    erasure,
  };
}
