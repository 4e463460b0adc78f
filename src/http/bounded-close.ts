import type { FastifyInstance } from 'fastify';

/** How long requests in flight may take to finish once the server is closing. */
export const HTTP_CLOSE_GRACE_MS = 10_000;

/**
 * Bounds `app.close()`: fastify stops accepting connections and closes the idle keep-alive
 * ones, then waits for every request in flight. A client that holds its connection (a
 * download it reads slowly, a socket left half-open) would make that wait endless, so after
 * `graceMs` every connection still open is closed. A request that was answered was answered
 * whole before that; one cut off got no answer, so it was not acknowledged and the client
 * sends it again (submissions take an Idempotency-Key for that).
 */
export function registerBoundedClose(app: FastifyInstance, graceMs = HTTP_CLOSE_GRACE_MS): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    timer = setTimeout(() => {
      app.log.warn({ graceMs }, 'requests still open at shutdown; closing their connections');
      app.server.closeAllConnections();
    }, graceMs);
    timer.unref();
  });
  app.addHook('onClose', async () => clearTimeout(timer));
}
