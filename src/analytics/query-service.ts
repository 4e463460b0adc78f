import { withQueryTimeout, type Database } from '../db/index.ts';
import { invalidRequest } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import {
  compileQuery,
  shapeResult,
  withFormId,
  type QueryResult,
  type ResultRow,
} from './dsl/index.ts';

/** PostgreSQL's numeric_value_out_of_range: a sum of stored numbers past a double's range. */
const isOutOfRange = (error: unknown) => (error as { code?: unknown } | null)?.code === '22003';

const outOfRange = () =>
  invalidRequest('invalid query: the aggregate is beyond the range of a JSON number', [
    { field: 'aggregate', message: 'its result is beyond the range of a JSON number' },
  ]);

/**
 * `POST /analytics/forms/:id/query`: the DSL compiled to one parameterised statement, run
 * on the read replica when one is configured, under QUERY_TIMEOUT, and cancelled when
 * `signal` aborts (the client went away).
 */
export class QueryService {
  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
  ) {}

  async run(
    workspaceId: string,
    formId: string,
    query: unknown,
    signal?: AbortSignal,
  ): Promise<{ result: QueryResult }> {
    const form = await this.forms.get(workspaceId, formId);
    const compiled = compileQuery(query, {
      fields: form.fields,
      calculatedKeys: form.calculated_fields.map((c) => c.key),
    });
    const reader = withQueryTimeout(this.db, { signal });
    const { rows } = await reader
      .query<ResultRow>(compiled.sql, withFormId(compiled.params, form.id))
      .catch((error: unknown) => {
        throw isOutOfRange(error) ? outOfRange() : error;
      });
    return { result: shapeResult(rows, compiled.shape) };
  }
}
