import { DisabledCaches, type Caches, type NamedCache } from '../cache/index.ts';
import { isUuid, uuidv7 } from '../common/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { notFound, validationFailed } from '../errors/index.ts';
import { calculatedBoundIssues, checkLogic } from './calculated-fields.ts';
import type { CalculatedField, Field, FieldIssue } from './field.ts';
import * as q from './queries.ts';
import type { CreateFormInput, UpdateFormInput } from './schemas.ts';
import { validateFormDefinition } from './validate-definition.ts';

export type { FormRow } from './queries.ts';

/**
 * Forms: definitions validated once here, so every response is validated against a sound form.
 * Reads by id go through the `forms` cache (L1, L2, PostgreSQL); every write drops the form
 * from every layer in every process. Cached rows are shared: callers must not change them.
 */
export class FormService {
  private readonly cache: NamedCache<q.FormRow>;

  constructor(
    private readonly db: Database,
    caches: Caches = new DisabledCaches(),
  ) {
    this.cache = caches.named<q.FormRow>('forms', { revive: reviveForm });
  }

  async create(workspaceId: string, input: CreateFormInput): Promise<q.FormRow> {
    const fields = input.fields as Field[];
    const calculatedFields = (input.calculated_fields ?? []) as CalculatedField[];
    assertSoundDefinition(fields, calculatedFields);
    return q.insertForm(this.db, {
      id: uuidv7(),
      workspaceId,
      title: input.title,
      description: input.description ?? null,
      status: input.status ?? 'published',
      fields,
      calculatedFields,
      now: new Date(),
    });
  }

  /** A live form of the workspace, or 404. Pass `db` to read inside a transaction. */
  async get(workspaceId: string, id: string, db: Queryable = this.db): Promise<q.FormRow> {
    if (!isUuid(id)) throw notFound('form');
    // Inside a transaction the caller needs the row as that transaction sees it.
    const form = db === this.db ? await this.byId(id) : await q.findForm(db, workspaceId, id);
    if (!form || form.workspace_id !== workspaceId) throw notFound('form');
    return form;
  }

  /** A live form by id, whatever its workspace or status (for background work). */
  async getAny(id: string): Promise<q.FormRow | undefined> {
    return isUuid(id) ? this.byId(id) : undefined;
  }

  /** A published form for the public routes, or 404 (drafts and deleted forms are invisible). */
  async getPublished(id: string): Promise<q.FormRow> {
    const form = isUuid(id) ? await this.byId(id) : undefined;
    if (!form || form.status !== 'published') throw notFound('form');
    return form;
  }

  /**
   * The form a submission goes to: with a workspace key, any live form of that workspace
   * (drafts included, for testing); without one, published forms only.
   */
  async getForSubmission(id: string, workspaceId: string | undefined): Promise<q.FormRow> {
    return workspaceId ? this.get(workspaceId, id) : this.getPublished(id);
  }

  /** The live forms, newest first; `formIds` keeps to those (a key limited to forms). */
  list(
    workspaceId: string,
    limit: number,
    beforeId?: string,
    formIds: readonly string[] | null = null,
  ): Promise<q.FormRow[]> {
    return q.listForms(this.db.reader, workspaceId, limit, beforeId, formIds);
  }

  async update(workspaceId: string, id: string, input: UpdateFormInput): Promise<q.FormRow> {
    const current = await this.get(workspaceId, id);
    const fields = (input.fields ?? current.fields) as Field[];
    const calculatedFields = (input.calculated_fields ??
      current.calculated_fields) as CalculatedField[];
    assertSoundDefinition(fields, calculatedFields);
    const updated = await q.updateForm(this.db, workspaceId, id, {
      title: input.title ?? current.title,
      description: input.description === undefined ? current.description : input.description,
      status: input.status ?? current.status,
      fields,
      calculatedFields,
      now: new Date(),
    });
    if (!updated) throw notFound('form');
    await this.cache.invalidate(id);
    return updated;
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!isUuid(id) || !(await q.softDeleteForm(this.db, workspaceId, id))) throw notFound('form');
    await this.cache.invalidate(id);
  }

  private byId(id: string): Promise<q.FormRow | undefined> {
    return this.cache.get(id, () => q.findFormById(this.db, id));
  }
}

/** A form read back from L2 has its timestamps as ISO strings. */
function reviveForm(row: q.FormRow): q.FormRow {
  if (row.created_at instanceof Date && row.updated_at instanceof Date) return row;
  return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) };
}

function assertSoundDefinition(fields: Field[], calculatedFields: CalculatedField[]): void {
  const issues: FieldIssue[] = validateFormDefinition({
    fields,
    calculated_fields: calculatedFields,
  });
  calculatedFields.forEach((calculated, i) => {
    const problem = checkLogic(calculated.logic);
    if (problem) issues.push({ field: `calculated_fields[${i}].logic`, message: problem });
  });
  // Evaluated (within the budget) only once every expression is known to be sound.
  if (issues.length === 0) issues.push(...calculatedBoundIssues(calculatedFields));
  if (issues.length > 0) throw validationFailed('the form definition breaks the rules', issues);
}
