import { isUuid, uuidv7 } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import { addCounts, NO_COUNTS, type ErasedCounts } from './erase.ts';
import { checkMatchShape, compileMatch } from './match.ts';
import * as q from './queries.ts';

export interface PresentedErasure {
  id: string;
  status: q.ErasureStatus;
  form_id: string | null;
  match: object;
  created_at: string;
  finished_at: string | null;
  counts: ErasedCounts;
  error: string | null;
}

const present = (row: q.ErasureRow): PresentedErasure => ({
  id: row.id,
  status: row.status,
  form_id: row.form_id,
  match: row.match as object,
  created_at: row.created_at.toISOString(),
  finished_at: row.finished_at?.toISOString() ?? null,
  counts: addCounts(NO_COUNTS, row.counts),
  error: row.error,
});

/**
 * Erasure requests (DESIGN.md section 4b): checked and queued here, run by the worker
 * (`startErasures`). The match is compiled now against every form it will run on, so a bad
 * one is a 422 naming its part, not a failed job.
 */
export class ErasureService {
  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
  ) {}

  async create(
    workspaceId: string,
    body: { form_id?: string; match: unknown },
  ): Promise<PresentedErasure> {
    if (body.form_id !== undefined) {
      const form = await this.forms.get(workspaceId, body.form_id);
      compileMatch(body.match, form, false);
    } else {
      checkMatchShape(body.match);
      for (const form of await q.formsFrom(this.db, workspaceId, null, null))
        compileMatch(body.match, form, true);
    }
    const row = await q.insertErasure(this.db, {
      id: uuidv7(),
      workspaceId,
      formId: body.form_id?.toLowerCase() ?? null,
      match: body.match,
    });
    return present(row);
  }

  /** The job with its counts so far; 404 for another workspace's. */
  async get(workspaceId: string, id: string): Promise<PresentedErasure> {
    const row = isUuid(id) ? await q.findErasure(this.db, workspaceId, id) : undefined;
    if (!row) throw notFound('erasure');
    return present(row);
  }
}
