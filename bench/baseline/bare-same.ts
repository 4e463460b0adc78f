/**
 * `bare-same`: what the hub does for a public submission, without the framework. The bare
 * server (bare-insert-server.ts, BARE_MODE=same) hands it the parsed JSON body; it then does
 * the hub's work, with the hub's own code where the hub has it:
 *
 * - the body's shape (`{data: object, completed?: boolean, metadata?: object}`, nothing else:
 *   the hub's `SubmitBody` schema, checked by hand here instead of by ajv);
 * - the text and depth check every hub body gets (`findTextProblem` to MAX_INPUT_DEPTH: no
 *   U+0000, no unpaired surrogate);
 * - the answers against the form with the hub's validator (`compileValidator` from
 *   src/forms, compiled once per form as the hub compiles it once per cached row), then
 *   `computeCalculated` and the metadata bounds (`metadataProblem`);
 * - the one write the hub commits: the response and its `response.submitted` outbox row in
 *   one statement (`insertResponseWithEvent`, the event's payload the presented response),
 *   then the coalesced NOTIFY that wakes the relays (`OutboxNotifier`, as the hub's);
 * - the 201 body: the presented response, serialised once with the event's payload
 *   (`prepareSubmission`, as the hub does).
 *
 * The form is looked up once and kept in a Map (the hub serves it from its in-process
 * cache). What it leaves out, by design, is what is not submission work: fastify, the
 * request pipeline's hooks (rate limit, id case, metrics, audit, load shedding, logging),
 * the cache library, Idempotency-Key handling (the bench sends none) and tracing (off).
 */

import pino from 'pino';
import {
  findTextProblem,
  hashToken,
  MAX_INPUT_DEPTH,
  randomToken,
  uuidv7,
} from '../../src/common/index.ts';
import type { Queryable } from '../../src/db/index.ts';
import { OutboxNotifier, traceContextOf } from '../../src/events/index.ts';
import { compileValidator, computeCalculated, type FormRow } from '../../src/forms/index.ts';
import { findFormById } from '../../src/forms/queries.ts';
import { metadataProblem, prepareSubmission } from '../../src/responses/index.ts';
import { insertResponseWithEvent } from '../../src/responses/queries.ts';

/** An answer: the status and the JSON text to send. */
export interface Answer {
  status: number;
  json: string;
}

const error = (status: number, code: string, message: string, details: object[] = []) => ({
  status,
  json: JSON.stringify({ error: { code, message, details } }),
});

const BODY_KEYS = new Set(['data', 'completed', 'metadata']);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body's shape, as the hub's `SubmitBody` schema has it; null when it is sound. */
function shapeProblem(body: unknown): string | null {
  if (!isObject(body)) return 'body must be an object';
  for (const key in body) if (!BODY_KEYS.has(key)) return `${key} is not a known property`;
  if (!isObject(body.data)) return 'data must be an object';
  if (body.completed !== undefined && typeof body.completed !== 'boolean')
    return 'completed must be a boolean';
  if (body.metadata !== undefined && !isObject(body.metadata)) return 'metadata must be an object';
  return null;
}

/** Submissions as the hub makes them, on `db`; one validator per form, as the hub keeps. */
export function createSameSubmit(db: Queryable) {
  const forms = new Map<string, FormRow | undefined>();
  const validators = new WeakMap<FormRow, ReturnType<typeof compileValidator>>();
  const outbox = new OutboxNotifier(db, pino({ level: 'silent' }));

  return async function submit(formId: string, body: unknown): Promise<Answer> {
    const shape = shapeProblem(body);
    if (shape) return error(422, 'validation_failed', shape);
    const text = findTextProblem(body, MAX_INPUT_DEPTH);
    if (text) return error(422, 'validation_failed', text.message);
    const input = body as { data: Record<string, unknown>; completed?: boolean; metadata?: object };
    if (!forms.has(formId)) forms.set(formId, await findFormById(db, formId));
    const form = forms.get(formId);
    if (!form || form.status !== 'published') return error(404, 'not_found', 'form not found');
    let validate = validators.get(form);
    if (!validate) {
      validate = compileValidator(
        form.fields,
        form.calculated_fields.map((c) => c.key),
      );
      validators.set(form, validate);
    }
    const completed = input.completed ?? true;
    const issues = validate(input.data, { completed });
    if (issues.length > 0) return error(422, 'validation_failed', 'breaks the rules', issues);
    const metadata = (input.metadata ?? {}) as Record<string, unknown>;
    const problem = metadataProblem(metadata);
    if (problem) return error(422, 'validation_failed', problem);
    const resumeToken = completed ? undefined : randomToken('rt_');
    const now = new Date();
    const fresh = {
      id: uuidv7(),
      workspaceId: form.workspace_id,
      formId: form.id,
      formVersion: form.version,
      data: computeCalculated(form.calculated_fields, input.data),
      completed,
      metadata,
      now,
      resumeTokenHash: resumeToken ? hashToken(resumeToken) : null,
      idempotencyKey: null,
      idempotencyHash: null,
    };
    const prepared = prepareSubmission(fresh, resumeToken);
    const written = await insertResponseWithEvent(db, fresh, {
      id: uuidv7(),
      type: completed ? 'response.submitted' : 'response.started',
      payloadJson: prepared.payloadJson,
      traceContext: traceContextOf({}),
    });
    if (!written) return error(409, 'conflict', 'not written');
    outbox.committed();
    return { status: 201, json: prepared.answerJson };
  };
}
