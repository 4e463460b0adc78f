import type { Logger } from 'pino';
import type { PredicateResponse, ResponsePredicate } from '../analytics/index.ts';
import { compileCondition, type RelayIntegration } from '../integrations/index.ts';

/** Why an event made no delivery to an integration with a condition. */
export type FilterReason = 'no_match' | 'invalid_condition';

/** Past this many compiled conditions the cache starts over (each is a few closures). */
const MAX_ENTRIES = 10_000;

/**
 * The relay's compiled conditions, one per integration and form (a workspace-wide
 * integration's condition is compiled against each form it fires for), kept while the
 * integration row and that form are the versions they were compiled from: an event is
 * checked in memory, never by a query of its own.
 */
export class ConditionCache {
  private readonly entries = new Map<string, { version: string; test: ResponsePredicate | null }>();

  constructor(private readonly logger: Logger) {}

  /** Whether the response passes the integration's condition; undefined when it does. */
  reject(integration: RelayIntegration, response: PredicateResponse): FilterReason | undefined {
    if (integration.condition === null) return undefined;
    const test = this.compiled(integration);
    if (test === null) return 'invalid_condition';
    return test(response) ? undefined : 'no_match';
  }

  private compiled(integration: RelayIntegration): ResponsePredicate | null {
    const key = `${integration.id}/${integration.form_id}`;
    const cached = this.entries.get(key);
    if (cached?.version === integration.version) return cached.test;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    let test: ResponsePredicate | null;
    try {
      test = compileCondition(integration.condition, {
        fields: integration.fields ?? [],
        calculatedKeys: integration.calculated_keys ?? [],
        openKeys: integration.workspace_wide,
      });
    } catch (error) {
      // Valid when stored, the condition names a field the form has since lost (or, for a
      // workspace-wide one, compares a field of this form as another type): it matches
      // nothing (a condition must never widen into "every event") until it is fixed.
      this.logger.warn(
        {
          integrationId: integration.id,
          formId: integration.form_id,
          err: (error as Error).message,
        },
        'integration condition does not compile against the form; its events are filtered',
      );
      test = null;
    }
    this.entries.set(key, { version: integration.version, test });
    return test;
  }
}

/** The response of an event as a condition reads it (an event without one: an empty response). */
export function conditionResponse(response: Record<string, unknown>): PredicateResponse {
  const object = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  return {
    data: object(response.data),
    metadata: object(response.metadata),
    completed: response.completed === true,
    submitted_at: String(response.submitted_at),
    updated_at: String(response.updated_at),
  };
}
