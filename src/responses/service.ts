import { createHash } from 'node:crypto';
import { isUuid, uuidv7, hashToken, randomToken } from '../common/index.ts';
import { withQueryTimeout, type Database, type Queryable } from '../db/index.ts';
import { AppError, notFound, validationFailed } from '../errors/index.ts';
import { traceContextOf, writeEvent, type EventType, type OutboxCommits } from '../events/index.ts';
import {
  compileValidator,
  computeCalculated,
  type FormRow,
  type FormService,
} from '../forms/index.ts';
import { metadataProblem } from './metadata-limits.ts';
import { presentResponse, type PresentedResponse } from './present.ts';
import * as q from './queries.ts';
import { prepareSubmission } from './submission.ts';

export interface SubmitInput {
  data: Record<string, unknown>;
  completed?: boolean | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface PatchInput {
  data?: Record<string, unknown> | undefined;
  completed?: boolean | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** Who may change a response: a workspace key, or the resume token of a partial response. */
export type PatchCredential = { workspaceId: string } | { resumeToken: string };

export interface SubmitResult {
  response: PresentedResponse & { resume_token?: string };
  /** True when an Idempotency-Key matched an earlier submission, which is returned instead. */
  replayed: boolean;
  /**
   * The exact JSON text to answer (201): `response` serialised once, without a second pass
   * through the route's serializer. With an Idempotency-Key the same bytes for the first
   * request and every replay of it. Absent for a replay with no first answer stored.
   */
  body?: string;
}

const RESUME_PREFIX = 'rt_';
/** The largest first answer stored for Idempotency-Key replays (the column's bound too). */
export const IDEMPOTENT_ANSWER_MAX_BYTES = 2 * 1024 * 1024;

/** Compiled validators per form row: a cached row is validated without compiling again. */
const validators = new WeakMap<FormRow, ReturnType<typeof compileValidator>>();

/** Validates a submission against its form; null when it is sound. */
export function dataIssues(form: FormRow, data: Record<string, unknown>, completed: boolean) {
  let validate = validators.get(form);
  if (!validate) {
    validate = compileValidator(
      form.fields,
      form.calculated_fields.map((c) => c.key),
    );
    validators.set(form, validate);
  }
  const issues = validate(data, { completed });
  return issues.length > 0 ? issues : null;
}

/** Responses: validated, stored with their event in one transaction, soft-deleted. */
export class ResponseService {
  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
    /** Told after each commit that wrote an event (it wakes the relays: OutboxNotifier). */
    private readonly outbox: OutboxCommits = { committed: () => undefined },
  ) {}

  async submit(form: FormRow, input: SubmitInput, idempotencyKey?: string): Promise<SubmitResult> {
    const completed = input.completed ?? true;
    const issues = dataIssues(form, input.data, completed);
    if (issues) throw validationFailed('the response breaks the form rules', issues);
    const metadata = checkedMetadata(input.metadata ?? {});
    const resumeToken = completed ? undefined : randomToken(RESUME_PREFIX);
    const requestHash = idempotencyKey ? hashRequest(input) : null;
    const now = new Date();
    const fresh: q.NewResponse = {
      id: uuidv7(),
      workspaceId: form.workspace_id,
      formId: form.id,
      formVersion: form.version,
      data: computeCalculated(form.calculated_fields, input.data),
      completed,
      metadata,
      now,
      resumeTokenHash: resumeToken ? hashToken(resumeToken) : null,
      idempotencyKey: idempotencyKey ?? null,
      idempotencyHash: requestHash,
    };
    // Serialised once: the event's payload, the 201 body and the answer kept for replays.
    const prepared = prepareSubmission(fresh, resumeToken);
    const answer = idempotencyKey ? storableAnswer(prepared.answerJson) : null;
    fresh.idempotencyAnswer = answer;
    // The response and its event in one statement: atomic without BEGIN/COMMIT round trips.
    const written = await q.insertResponseWithEvent(this.db, fresh, {
      id: uuidv7(),
      type: completed ? 'response.submitted' : 'response.started',
      payloadJson: prepared.payloadJson,
      traceContext: traceContextOf({}),
    });
    if (!written) return this.replay(this.db, form, idempotencyKey!, requestHash!);
    this.outbox.committed();
    return {
      response: withToken(prepared.presented, resumeToken),
      replayed: false,
      body: prepared.answerJson,
    };
  }

  async get(workspaceId: string, id: string): Promise<PresentedResponse> {
    const row = isUuid(id) ? await q.findResponse(this.db, id, workspaceId) : undefined;
    if (!row) throw notFound('response');
    return presentResponse(row);
  }

  /**
   * Merges `data` into a response (a null value removes an answer) and may complete it.
   * Completing sets `submitted_at` to now and retires the resume token.
   */
  async patch(
    id: string,
    input: PatchInput,
    credential: PatchCredential,
  ): Promise<PresentedResponse> {
    if (!isUuid(id)) throw notFound('response');
    const patched = await this.db.transaction(async (tx) => {
      const workspaceId = 'workspaceId' in credential ? credential.workspaceId : undefined;
      const row = await q.findResponse(tx, id, workspaceId, true);
      if (!row) throw notFound('response');
      if (
        'resumeToken' in credential &&
        row.resume_token_hash !== hashToken(credential.resumeToken)
      ) {
        throw new AppError(
          'unauthorized',
          'the resume token is not valid for this response (or it is complete)',
        );
      }
      if (row.completed && input.completed === false) {
        throw new AppError('conflict', 'a completed response cannot be made partial again');
      }
      const form = await this.forms.get(row.workspace_id, row.form_id, tx);
      const completing = !row.completed && input.completed === true;
      const completed = row.completed || completing;
      const data = mergeAnswers(row.data, input.data ?? {}, form);
      const issues = dataIssues(form, data, completed);
      if (issues) throw validationFailed('the response breaks the form rules', issues);
      const now = new Date();
      const updated = await q.updateResponse(tx, id, {
        data: computeCalculated(form.calculated_fields, data),
        completed,
        metadata: input.metadata
          ? checkedMetadata({ ...row.metadata, ...input.metadata })
          : row.metadata,
        formVersion: form.version,
        submittedAt: completing ? now : row.submitted_at,
        now,
        resumeTokenHash: completed ? null : row.resume_token_hash,
      });
      await this.emit(
        tx,
        updated,
        completing ? 'response.submitted' : 'response.updated',
        now,
        row,
      );
      return presentResponse(updated);
    });
    this.outbox.committed();
    return patched;
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!isUuid(id)) throw notFound('response');
    await this.db.transaction(async (tx) => {
      const row = await q.findResponse(tx, id, workspaceId, true);
      if (!row) throw notFound('response');
      const now = new Date();
      const deleted = await q.softDeleteResponse(tx, id, now);
      if (deleted) await this.emit(tx, deleted, 'response.deleted', now, row);
    });
    this.outbox.committed();
  }

  /** A page of a listing, under QUERY_TIMEOUT; `signal` (the client's) cancels it. */
  async list(
    workspaceId: string,
    formId: string,
    filter: Omit<q.ListFilter, 'formId'>,
    signal?: AbortSignal,
  ): Promise<q.ResponseRow[]> {
    await this.forms.get(workspaceId, formId);
    return q.listResponses(withQueryTimeout(this.db, { signal }), { ...filter, formId });
  }

  private async replay(
    tx: Queryable,
    form: FormRow,
    key: string,
    requestHash: string,
  ): Promise<SubmitResult> {
    const first = await q.findByIdempotencyKey(tx, form.id, key);
    if (!first)
      throw new AppError('conflict', 'a request with this Idempotency-Key is in progress; retry');
    if (first.idempotency_hash !== requestHash) {
      throw new AppError(
        'conflict',
        'this Idempotency-Key was already used with a different request body',
      );
    }
    // The first answer as it was given: answers added since, a completion, and above all
    // the resume token stay as they were (a new token would lock the first client out).
    if (first.idempotency_answer !== null) {
      const response = JSON.parse(first.idempotency_answer) as SubmitResult['response'];
      return { response, replayed: true, body: first.idempotency_answer };
    }
    // No first answer stored (written before migration 7, or over the bound): the response
    // as it is, without a token; a token is never minted for a replay.
    return { response: presentResponse(first), replayed: true };
  }

  /**
   * Writes the change's event in its transaction. `previous` (the response before the
   * change) lets consumers such as analytics apply exact deltas.
   */
  private emit(
    tx: Queryable,
    row: q.ResponseRow,
    type: EventType,
    now: Date,
    previous?: q.ResponseRow,
  ): Promise<void> {
    const payload: Record<string, unknown> = { response: presentResponse(row) };
    if (previous) payload.previous = presentResponse(previous);
    return writeEvent(tx, {
      id: uuidv7(),
      workspaceId: row.workspace_id,
      formId: row.form_id,
      type,
      payload,
      createdAt: now,
    });
  }
}

/** The stored answers (without calculated values) with the patch applied; null removes a key. */
function mergeAnswers(
  stored: Record<string, unknown>,
  patch: Record<string, unknown>,
  form: FormRow,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored };
  for (const calculated of form.calculated_fields) delete merged[calculated.key];
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The metadata as given, or 422 when it is past METADATA_LIMITS. */
function checkedMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const problem = metadataProblem(metadata);
  if (problem)
    throw validationFailed('the metadata is too large', [{ field: 'metadata', message: problem }]);
  return metadata;
}

function withToken<T extends object>(
  response: T,
  token: string | undefined,
): T & { resume_token?: string } {
  return token ? { ...response, resume_token: token } : response;
}

/** The JSON text of a first answer, or null when it is too large to keep for replays. */
function storableAnswer(text: string): string | null {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text needs counting.
  return text.length * 3 <= IDEMPOTENT_ANSWER_MAX_BYTES ||
    Buffer.byteLength(text) <= IDEMPOTENT_ANSWER_MAX_BYTES
    ? text
    : null;
}

function hashRequest(input: SubmitInput): string {
  const canonical = JSON.stringify([input.data, input.completed ?? true, input.metadata ?? {}]);
  return createHash('sha256').update(canonical).digest('hex');
}
