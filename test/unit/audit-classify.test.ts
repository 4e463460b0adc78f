import { describe, expect, it } from 'vitest';
import { classify } from '../../src/audit/index.ts';

const id = { id: 'r1' };

describe('which changes the audit log records, and as what', () => {
  it.each([
    ['POST', '/forms', {}, 'f1', 'form.created', 'form', 'f1'],
    ['PATCH', '/forms/:id', id, undefined, 'form.updated', 'form', 'r1'],
    ['DELETE', '/forms/:id', id, undefined, 'form.deleted', 'form', 'r1'],
    ['POST', '/forms/:id/webhooks', id, 'w1', 'webhook.created', 'webhook', 'w1'],
    ['POST', '/webhooks', {}, 'w2', 'webhook.created', 'webhook', 'w2'],
    [
      'POST',
      '/webhooks/:id/rotate-secret',
      id,
      undefined,
      'webhook.rotate_secret',
      'webhook',
      'r1',
    ],
    ['POST', '/webhooks/:id/replay', id, undefined, 'webhook.replay', 'webhook', 'r1'],
    ['POST', '/webhooks/:id/test', id, undefined, 'webhook.test', 'webhook', 'r1'],
    ['POST', '/integrations', {}, 'i1', 'integration.created', 'integration', 'i1'],
    ['PATCH', '/integrations/:id', id, undefined, 'integration.updated', 'integration', 'r1'],
    ['POST', '/deliveries/:id/replay', id, undefined, 'delivery.replay', 'delivery', 'r1'],
    ['POST', '/zapier/hooks', {}, 'z1', 'zapier_hook.created', 'zapier_hook', 'z1'],
    ['DELETE', '/zapier/hooks/:id', id, undefined, 'zapier_hook.deleted', 'zapier_hook', 'r1'],
    ['POST', '/forms/:id/exports', id, 'e1', 'export.created', 'export', 'e1'],
    ['POST', '/scheduled-reports', {}, 's1', 'scheduled_report.created', 'scheduled_report', 's1'],
    [
      'POST',
      '/scheduled-reports/:id/run',
      id,
      undefined,
      'scheduled_report.run',
      'scheduled_report',
      'r1',
    ],
    ['POST', '/api-keys', {}, 'k1', 'api_key.created', 'api_key', 'k1'],
    ['DELETE', '/api-keys/:id', id, undefined, 'api_key.deleted', 'api_key', 'r1'],
    [
      'POST',
      '/notification-channels',
      {},
      'n1',
      'notification_channel.created',
      'notification_channel',
      'n1',
    ],
    ['POST', '/erasures', {}, 'x1', 'erasure.created', 'erasure', 'x1'],
    ['PATCH', '/workspace', {}, undefined, 'workspace.updated', 'workspace', null],
  ] as const)('%s %s -> %s', (method, url, params, created, action, type, resourceId) => {
    expect(classify(method, url, params, created)).toEqual({
      action,
      resource: { type, id: resourceId },
    });
  });

  it.each([
    ['POST', '/forms/:id/responses'],
    ['POST', '/forms/:id/responses/import'],
    ['PATCH', '/responses/:id'],
    ['DELETE', '/responses/:id'],
    ['POST', '/analytics/forms/:id/query'],
    ['POST', '/workspaces'], // the admin key's, not a workspace key's
    ['POST', '/something-new'],
  ])('%s %s is not audited', (method, url) => {
    expect(classify(method, url, id)).toBeUndefined();
  });
});
