import type { PresentedResponse } from './present.ts';
import { presentResponse } from './present.ts';
import { asRow, type NewResponse } from './queries.ts';

/** A new response as it will be written and answered, serialised once. */
export interface PreparedSubmission {
  /** The response as the API shows it (no resume token): the event's snapshot too. */
  presented: PresentedResponse;
  /** `presented` as JSON text. */
  json: string;
  /** The outbox event's payload as JSON text: `{"response": <json>}`. */
  payloadJson: string;
  /** The 201 body as JSON text: `json`, with `resume_token` for a partial response. */
  answerJson: string;
}

/**
 * Presents a new response and serialises it once for everything that needs it: the event's
 * payload (`{"response": ...}`) and the 201 body (with the resume token of a partial
 * response, which the event never carries). The body is the response as submitted (after
 * calculated fields), the same bytes an Idempotency-Key replay returns; a stored jsonb
 * value differs from it only in the order of object keys.
 *
 * @example prepareSubmission(fresh, undefined).answerJson; // '{"id":"...","form_id":"...",...}'
 */
export function prepareSubmission(
  fresh: NewResponse,
  resumeToken: string | undefined,
): PreparedSubmission {
  const presented = presentResponse(asRow(fresh));
  const json = JSON.stringify(presented);
  return {
    presented,
    json,
    payloadJson: `{"response":${json}}`,
    answerJson: resumeToken
      ? `${json.slice(0, -1)},"resume_token":${JSON.stringify(resumeToken)}}`
      : json,
  };
}
