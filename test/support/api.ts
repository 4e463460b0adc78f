import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** One entry of an error's `details`. */
export interface Detail {
  field: string;
  message: string;
}

/** The API's one error shape (DESIGN.md section 3). */
export interface ErrorBody {
  error: { code: string; message: string; details: Detail[] };
}

/**
 * Asserts that `res` is an error answer with this status and code in the
 * `{"error": {"code", "message", "details"}}` shape, and returns its details.
 */
export function expectError(res: LightMyRequestResponse, status: number, code?: string): Detail[] {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json() as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({
    code: code ?? expect.any(String),
    message: expect.any(String),
    details: expect.any(Array),
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  for (const detail of body.error.details) {
    expect(detail).toEqual({ field: expect.any(String), message: expect.any(String) });
  }
  // No stack traces in responses.
  expect(res.body).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  return body.error.details;
}

/** The `field` of each detail, in order. */
export const fieldsOf = (details: Detail[]): string[] => details.map((d) => d.field);

/** Waits `ms` milliseconds, e.g. so that two writes get distinct timestamps. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
