import type { FastifyReply } from 'fastify';

/**
 * An AbortSignal that aborts when the client goes away before its answer is written: the
 * response's connection closes unfinished. Pass it to `withQueryTimeout` so that the query
 * of an abandoned request is cancelled.
 *
 * Not `request.signal`: it follows the request stream, which in Node closes as soon as the
 * body has been read (a POST's signal aborts while the client still waits, and one read
 * after that never aborts at all).
 *
 * @example
 * async (request, reply) => service.list(filter, clientSignal(reply))
 */
export function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  const gone = () => new Error('the client closed the connection before the answer');
  if (response.destroyed || response.socket?.destroyed) {
    controller.abort(gone());
  } else {
    response.once('close', () => {
      if (!response.writableFinished) controller.abort(gone());
    });
  }
  return controller.signal;
}
