import { describe, expect, it } from 'vitest';
import { prepareSubmission, presentResponse } from '../../src/responses/index.ts';

/** A new response as ResponseService.submit builds it. */
function fresh(data: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    id: '01937a4e-0000-7000-8000-000000000001',
    workspaceId: '01937a4e-0000-7000-8000-000000000002',
    formId: '01937a4e-0000-7000-8000-000000000003',
    formVersion: 3,
    data,
    completed: true,
    metadata,
    now: new Date('2026-12-07T21:00:00.123Z'),
    resumeTokenHash: null,
    idempotencyKey: null,
    idempotencyHash: null,
  };
}

describe('prepareSubmission: the new response serialised once', () => {
  it('answers the presented response, and the event carries the same response', () => {
    const data = { name: 'Ada', tags: ['a', 'b'], n: 1.5, ok: false };
    const prepared = prepareSubmission(fresh(data, { utm: 'mail' }), undefined);
    const expected = {
      id: '01937a4e-0000-7000-8000-000000000001',
      form_id: '01937a4e-0000-7000-8000-000000000003',
      data,
      completed: true,
      submitted_at: '2026-12-07T21:00:00.123Z',
      updated_at: '2026-12-07T21:00:00.123Z',
      metadata: { utm: 'mail' },
    };
    expect(JSON.parse(prepared.answerJson)).toStrictEqual(expected);
    expect(JSON.parse(prepared.payloadJson)).toStrictEqual({ response: expected });
    expect(prepared.presented).toStrictEqual(expected);
    expect(prepared.json).toBe(prepared.answerJson);
  });

  it('adds the resume token to the answer only, never to the event', () => {
    const response = { ...fresh({ name: 'Grace' }), completed: false };
    const prepared = prepareSubmission(response, 'rt_secret"\\token');
    const answer = JSON.parse(prepared.answerJson) as Record<string, unknown>;
    expect(answer.resume_token).toBe('rt_secret"\\token');
    expect({ ...answer, resume_token: undefined }).toStrictEqual({
      ...presentResponse({
        id: response.id,
        workspace_id: response.workspaceId,
        form_id: response.formId,
        data: response.data,
        completed: false,
        metadata: {},
        submitted_at: response.now,
        updated_at: response.now,
        resume_token_hash: null,
        idempotency_hash: null,
      }),
      resume_token: undefined,
    });
    expect(prepared.payloadJson).not.toContain('resume_token');
    expect(prepared.payloadJson).not.toContain('rt_secret');
  });

  it('keeps wide and unusual answers exactly (40 KB of text, astral characters, escapes)', () => {
    const data = {
      long: 'é'.repeat(40 * 1024),
      emoji: '🦄 \u2028 "quoted" \\ back',
      nested: { deep: [[{ x: null }]] },
    };
    const prepared = prepareSubmission(fresh(data), 'rt_x');
    expect((JSON.parse(prepared.answerJson) as { data: unknown }).data).toStrictEqual(data);
    expect(
      (JSON.parse(prepared.payloadJson) as { response: { data: unknown } }).response.data,
    ).toStrictEqual(data);
  });
});
