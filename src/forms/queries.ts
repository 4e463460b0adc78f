import type { Queryable } from '../db/index.ts';
import type { CalculatedField, Field } from './field.ts';

export interface FormRow {
  id: string;
  workspace_id: string;
  title: string;
  description: string | null;
  status: 'draft' | 'published';
  version: number;
  fields: Field[];
  calculated_fields: CalculatedField[];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, workspace_id, title, description, status, version, fields, calculated_fields, created_at, updated_at';

export interface NewForm {
  id: string;
  workspaceId: string;
  title: string;
  description: string | null;
  status: 'draft' | 'published';
  fields: Field[];
  calculatedFields: CalculatedField[];
  now: Date;
}

export async function insertForm(db: Queryable, form: NewForm): Promise<FormRow> {
  const { rows } = await db.query<FormRow>(
    `INSERT INTO forms (id, workspace_id, title, description, status, fields, calculated_fields, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $8) RETURNING ${COLUMNS}`,
    [
      form.id,
      form.workspaceId,
      form.title,
      form.description,
      form.status,
      JSON.stringify(form.fields),
      JSON.stringify(form.calculatedFields),
      form.now,
    ],
  );
  return rows[0]!;
}

/** A live form of the workspace; undefined for unknown, deleted or another workspace's. */
export async function findForm(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<FormRow | undefined> {
  const { rows } = await db.query<FormRow>(
    `SELECT ${COLUMNS} FROM forms WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`,
    [id, workspaceId],
  );
  return rows[0];
}

/** A live form by id alone, for the public routes (which then check its status). */
export async function findFormById(db: Queryable, id: string): Promise<FormRow | undefined> {
  const { rows } = await db.query<FormRow>(
    `SELECT ${COLUMNS} FROM forms WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  return rows[0];
}

export async function listForms(
  db: Queryable,
  workspaceId: string,
  limit: number,
  beforeId: string | undefined,
  formIds: readonly string[] | null = null,
): Promise<FormRow[]> {
  const { rows } = await db.query<FormRow>(
    `SELECT ${COLUMNS} FROM forms
     WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id < $2::uuid)
       AND ($4::uuid[] IS NULL OR id = ANY($4::uuid[]))
     ORDER BY id DESC LIMIT $3`,
    [workspaceId, beforeId ?? null, limit, formIds],
  );
  return rows;
}

export interface FormChanges {
  title: string;
  description: string | null;
  status: 'draft' | 'published';
  fields: Field[];
  calculatedFields: CalculatedField[];
  now: Date;
}

/** Writes the new definition and bumps `version`; undefined when the form is gone. */
export async function updateForm(
  db: Queryable,
  workspaceId: string,
  id: string,
  changes: FormChanges,
): Promise<FormRow | undefined> {
  const { rows } = await db.query<FormRow>(
    `UPDATE forms SET title = $3, description = $4, status = $5, fields = $6::jsonb,
       calculated_fields = $7::jsonb, updated_at = $8, version = version + 1
     WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    [
      id,
      workspaceId,
      changes.title,
      changes.description,
      changes.status,
      JSON.stringify(changes.fields),
      JSON.stringify(changes.calculatedFields),
      changes.now,
    ],
  );
  return rows[0];
}

export async function softDeleteForm(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE forms SET deleted_at = now() WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL',
    [id, workspaceId],
  );
  return rowCount > 0;
}
