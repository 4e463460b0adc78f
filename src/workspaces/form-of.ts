import type { Queryable } from '../db/index.ts';
import type { FormResource } from '../http/index.ts';

/**
 * One query per kind of resource: the form a resource of this workspace belongs to, by its
 * primary key (deleted resources included: their routes answer 404 themselves). A delivery
 * belongs to its integration's form.
 */
const FORM_OF: Record<FormResource, string> = {
  response: 'SELECT form_id FROM responses WHERE id = $1 AND workspace_id = $2',
  integration: 'SELECT form_id FROM integrations WHERE id = $1 AND workspace_id = $2',
  delivery: `SELECT i.form_id FROM deliveries d JOIN integrations i ON i.id = d.integration_id
             WHERE d.id = $1 AND d.workspace_id = $2`,
  export: 'SELECT form_id FROM export_jobs WHERE id = $1 AND workspace_id = $2',
  report: 'SELECT form_id FROM scheduled_reports WHERE id = $1 AND workspace_id = $2',
};

/**
 * The form of a resource (see `FormOf` in src/http): its id, null when it has none (a
 * workspace-wide integration), undefined when the workspace has no such resource.
 */
export async function formOfResource(
  db: Queryable,
  kind: FormResource,
  workspaceId: string,
  id: string,
): Promise<string | null | undefined> {
  const { rows } = await db.query<{ form_id: string | null }>(FORM_OF[kind], [id, workspaceId]);
  return rows[0]?.form_id;
}
