/** What an audited request changed: `form.created`, `webhook.rotate_secret`, ... */
export interface AuditAction {
  action: string;
  resource: { type: string; id: string | null };
}

/** The collections whose changes are audited, by their path segment, and their type. */
const COLLECTIONS: Record<string, string> = {
  forms: 'form',
  webhooks: 'webhook',
  integrations: 'integration',
  hooks: 'zapier_hook', // only under /zapier
  deliveries: 'delivery',
  exports: 'export',
  'scheduled-reports': 'scheduled_report',
  'api-keys': 'api_key',
  'notification-channels': 'notification_channel',
  erasures: 'erasure',
  workspace: 'workspace',
};

/**
 * Routes that change nothing an operator audits: submissions, imports and edits of
 * responses (the data itself, at submission volume), and analytics queries sent as POST.
 */
const NOT_AUDITED = new Set(['responses', 'analytics']);

const VERBS: Record<string, string> = { POST: 'created', PATCH: 'updated', PUT: 'updated' };

/**
 * The audit entry of a change (a POST, PATCH, PUT or DELETE) to the route `url` (its
 * pattern under /api/v2, e.g. `/forms/:id/webhooks`), or undefined when the route is not
 * audited. The resource is the last collection the pattern names: `/forms/:id/webhooks`
 * creates a webhook (its id is the answer's, `createdId`), `/webhooks/:id` updates or
 * deletes one, `/webhooks/:id/rotate-secret` is `webhook.rotate_secret` on `:id`. Pure.
 *
 * @example classify('POST', '/deliveries/:id/replay', { id: 'd1' }) // delivery.replay d1
 */
export function classify(
  method: string,
  url: string,
  params: Record<string, string | undefined>,
  createdId?: string,
): AuditAction | undefined {
  const segments = url.split('/').filter(Boolean);
  if (segments.some((s) => NOT_AUDITED.has(s))) return undefined;
  let at = -1;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] as string;
    if (segment === 'hooks' && segments[i - 1] !== 'zapier') continue;
    if (COLLECTIONS[segment]) {
      at = i;
      break;
    }
  }
  if (at === -1) return undefined;
  const type = COLLECTIONS[segments[at] as string] as string;
  const rest = segments.slice(at + 1);
  const param = rest[0]?.startsWith(':') ? rest[0].slice(1) : undefined;
  const verb = param ? rest[1] : rest[0];
  const id = (param ? params[param] : undefined) ?? null;
  if (verb !== undefined) {
    // A sub-action of one resource (`/webhooks/:id/replay`) or of the collection.
    return { action: `${type}.${verb.replaceAll('-', '_')}`, resource: { type, id } };
  }
  if (type === 'workspace') return { action: 'workspace.updated', resource: { type, id } };
  if (!param) {
    if (method !== 'POST') return undefined;
    return { action: `${type}.created`, resource: { type, id: createdId ?? null } };
  }
  const done = method === 'DELETE' ? 'deleted' : VERBS[method];
  return done ? { action: `${type}.${done}`, resource: { type, id } } : undefined;
}
