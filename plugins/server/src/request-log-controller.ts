import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's per-request lines at `debug` instead of `info`: workers poll and
 * heartbeat all the time, so at `info` the log would be mostly requests.
 * One line per request, when it is answered (method, URL, status, ms);
 * errors keep fastify's levels (a 5xx is logged at `error` by the server's
 * error handler).
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {
    // The completion line says everything; a request that never completes shows in fastify's close/timeout lines.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      reply.log.error({ err: error, method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request errored');
    } else {
      reply.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    }
  }
}
