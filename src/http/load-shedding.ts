import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { getHeapStatistics } from 'node:v8';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

/** Seconds a shed client is told to wait (Retry-After). */
export const SHED_RETRY_AFTER_S = 2;
/** How often the process measures itself; a bound crossed is seen within this. */
const SAMPLE_INTERVAL_MS = 1000;

/** The bounds `@fastify/under-pressure` checks, from the configuration. */
export function sheddingBounds(options: Config['http']['loadShedding']) {
  const heapMb = options.maxHeapUsedMb > 0 ? options.maxHeapUsedMb : undefined;
  return {
    sampleInterval: SAMPLE_INTERVAL_MS,
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxEventLoopUtilization: options.maxEventLoopUtilizationPct / 100,
    eventLoopUtilizationMode: 'interval' as const,
    maxHeapUsedBytes: heapMb
      ? heapMb * 1024 * 1024
      : Math.floor(getHeapStatistics().heap_size_limit * 0.9),
  };
}

/**
 * Load shedding (DESIGN.md section 3a): while the process is overloaded (mean event-loop
 * delay, event-loop utilisation or heap over its bound, measured every second), requests
 * of this scope answer 503 `unavailable` with `Retry-After` at once instead of queueing
 * without end. Register it on the scope of the API routes: /healthz, /readyz and /metrics
 * stay answerable, so that an orchestrator and a scraper still see the process.
 */
export async function registerLoadShedding(
  scope: FastifyInstance,
  options: Config['http']['loadShedding'],
): Promise<void> {
  if (!options.enabled) return;
  // The first samples cover start-up (module loading, building every route), which blocks
  // the loop for seconds: nothing is shed until two samples after the app is ready.
  let warm = false;
  scope.addHook('onReady', async () => {
    setTimeout(() => (warm = true), 2 * SAMPLE_INTERVAL_MS).unref();
  });
  await scope.register(underPressure, {
    ...sheddingBounds(options),
    pressureHandler: async () => {
      if (!warm) return;
      throw new AppError('unavailable', 'the server is overloaded; retry later', [], {
        'retry-after': String(SHED_RETRY_AFTER_S),
      });
    },
  });
}
