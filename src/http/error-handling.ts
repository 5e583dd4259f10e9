// Turns every failure into the JSON error shape {"success":false,"error":...} with the catalogue's status.
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, diskFullError } from '../errors/index.ts';
import { errorBody } from './error-body.ts';
import { drainOversizedBody } from './oversized-bodies.ts';

/** What an error answer may say of the path: a short one as is, a long or odd one not at all. */
const SHOWN_PATH = /^\/[\w\-./~]{0,99}$/;

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
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('INVALID_BODY', { detail: 'Content-Length does not match the body.' });
    case 'FST_ERR_BAD_URL':
      return new AppError('BAD_URL');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('URL_TOO_LONG', { limit: MAX_PARAM_LENGTH });
    default:
      // zlib's codes: only the gzip decoding of a request body (body-decoding.ts) raises them.
      if (/^Z_[A-Z_]+$/.test(String(error.code ?? ''))) {
        return new AppError('INVALID_GZIP', { detail: error.message });
      }
      if (error instanceof SyntaxError) {
        return new AppError('INVALID_JSON', { detail: error.message });
      }
      return diskFullError(error, "this request's changes were not saved.");
  }
}

/** Answers one error; also fastify's `frameworkErrors` option (bad URL, over-long parameter). */
export type ErrorAnswer = (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply>;

/** Fastify's default for the longest path parameter (maxParamLength); longer ones answer 414. */
export const MAX_PARAM_LENGTH = 100;

/**
 * Error answers for everything fastify routes: errors thrown by routes and hooks, body parsing,
 * unknown routes, bad URLs (`frameworkErrors`) and requests that arrive while the server closes.
 * What never reaches fastify (unreadable HTTP) is answered in connection-errors.ts.
 */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): ErrorAnswer {
  const answer: ErrorAnswer = async (error, request, reply) => {
    const known =
      error instanceof AppError
        ? error
        : fromFastifyError(error, bodyLimit, String(request.headers['content-type'] ?? ''));
    if (known) {
      if (known.code === 'PAYLOAD_TOO_LARGE') await drainOversizedBody(request);
      // The operator must hear of a full disk; the client only gets the catalogue's message.
      if (known.code === 'DISK_FULL') request.log.error({ err: error }, 'disk full');
      return reply.status(known.status).send(errorBody(known));
    }
    // The connection broke mid-request (a reset, or a broken chunked body answered by
    // connection-errors.ts): nobody is left to answer, and nothing is wrong with the server.
    if (request.raw.destroyed) {
      const broken = new AppError('MALFORMED_REQUEST', { problem: 'the connection broke' });
      return reply.status(broken.status).send(errorBody(broken));
    }
    // The reference ties the client's report to the log line; the stack never leaves the server.
    const reference = randomUUID();
    request.log.error({ err: error, reference }, 'internal error');
    return reply.status(500).send(errorBody(new AppError('INTERNAL', { reference })));
  };
  app.setErrorHandler(answer);

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const error = new AppError('ROUTE_NOT_FOUND', {
      method: request.method,
      path: SHOWN_PATH.test(path) ? path : '(a path not shown here)',
    });
    return reply.status(error.status).send(errorBody(error));
  });

  // Instead of fastify's return503OnClosing, whose answer has fastify's own shape.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new AppError('SERVER_CLOSING');
  });
  return answer;
}
