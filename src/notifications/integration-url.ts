import type { Logger } from 'pino';
import type { SecretBox } from '../secrets/index.ts';
import type { StoredEvent } from './queries.ts';

/** The URL in a webhook integration's sealed config; undefined when there is none to show. */
export function integrationUrl(
  secrets: SecretBox,
  event: StoredEvent,
  logger: Logger,
): string | undefined {
  if (!event.integration_connector_config) return undefined;
  try {
    const url = secrets.openJson<{ url?: unknown }>(event.integration_connector_config).url;
    return typeof url === 'string' ? url : undefined;
  } catch (error) {
    // The event is still worth sending without its URL; the log says why it is missing.
    logger.warn(
      { event: event.id, err: (error as Error).message },
      'integration config unreadable',
    );
    return undefined;
  }
}
