// Turns every failure into the JSON error shape {"success":false,"error":...} with the catalogue's status.
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../errors/index.ts';

/** Fastify's own error codes that are the client's fault, mapped to catalogue errors. */
function fromFastifyError(
  error: FastifyError,
  bodyLimit: number,
  contentType: string,
): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', { limit: bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', { type: contentType || '(none)' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('INVALID_JSON', { detail: 'the body is empty' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('INVALID_BODY', { detail: 'Content-Length does not match the body.' });
    default:
      // zlib's codes: only the gzip decoding of a request body (body-decoding.ts) raises them.
      if (/^Z_[A-Z_]+$/.test(String(error.code ?? ''))) {
        return new AppError('INVALID_GZIP', { detail: error.message });
      }
      if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return new AppError('INVALID_JSON', { detail: error.message });
      }
      return undefined;
  }
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known =
      error instanceof AppError
        ? error
        : fromFastifyError(error, bodyLimit, String(request.headers['content-type'] ?? ''));
    if (known) {
      return reply.status(known.status).send({ success: false, error: known.message });
    }
    // The reference ties the client's report to the log line; the stack never leaves the server.
    const reference = randomUUID();
    request.log.error({ err: error, reference }, 'internal error');
    const internal = new AppError('INTERNAL', { reference });
    return reply.status(internal.status).send({ success: false, error: internal.message });
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new AppError('ROUTE_NOT_FOUND', {
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
    });
    return reply.status(error.status).send({ success: false, error: error.message });
  });
}
