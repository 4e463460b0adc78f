import type { FormResponse } from './events.ts';

/**
 * A response as one flat object: `id`, `form_id`, `submitted_at`, then each answer at the
 * top level (arrays stay arrays). The shape Zapier hooks deliver and spreadsheets want.
 *
 * @example flattenResponse(response) // { id: 'r1', form_id: 'f1', submitted_at: '...', email: 'a@b.co' }
 */
export function flattenResponse(response: FormResponse): Record<string, unknown> {
  return {
    id: response.id,
    form_id: response.form_id,
    submitted_at: response.submitted_at,
    ...response.data,
  };
}
