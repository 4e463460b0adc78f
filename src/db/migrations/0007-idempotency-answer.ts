/**
 * An Idempotency-Key replay returns the first answer as it was given (DESIGN.md section
 * 3a): the exact JSON body of the 201, stored with the idempotency record (the response
 * row that holds the key) when the response is written, in the same statement. A partial
 * response's first answer holds its resume token, so a replay returns that token again
 * and never mints a new one. Bounded: a response is at most 1 MiB, its answer at most
 * 2 MiB (calculated values and metadata on top); a larger one is not stored, and a replay
 * then answers the response as it is, without a token (src/responses/service.ts). Rows
 * written before this migration have none either.
 */
export const statements = [
  `ALTER TABLE responses ADD COLUMN idempotency_answer text`,
  `ALTER TABLE responses ADD CONSTRAINT responses_idempotency_answer_size
     CHECK (octet_length(idempotency_answer) <= 2097152)`,
];
