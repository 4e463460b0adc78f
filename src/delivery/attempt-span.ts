import { parseCarrier, tracer, type TraceSpan } from '../tracing/index.ts';
import type { DeliveryJob } from './delivery-queue.ts';
import type { ClaimedDelivery } from './queries.ts';

/**
 * Runs one claimed attempt in its span, a child of the context stored on the delivery (the
 * relay's span), so every attempt of a delivery, retries and sweeper re-queues included,
 * is in the submission's trace; the plugin's outgoing request is a child of it. With
 * tracing off the span is the no-op one and `run` calls `attempt` as it is.
 */
export async function inAttemptSpan(
  delivery: ClaimedDelivery,
  job: DeliveryJob,
  attempt: (span: TraceSpan) => Promise<void>,
): Promise<void> {
  const t = tracer();
  if (!t.enabled) return attempt(t.start('', null));
  const span = t.start('delivery attempt', parseCarrier(delivery.trace_context), {
    attributes: {
      'formhub.delivery.id': delivery.id,
      'formhub.delivery.attempt': job.attempt,
      'formhub.integration.id': delivery.integration_id,
    },
  });
  try {
    await span.run(() => attempt(span));
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
