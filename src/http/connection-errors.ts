// Answers requests Node cannot parse (bad request line, 431, broken chunked body, 408) in the JSON shape.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/index.ts';
import { rawErrorResponse } from './error-body.ts';
import { isDraining } from './oversized-bodies.ts';

export interface ConnectionLimits {
  /** Node's maxHeaderSize: request line and headers together. */
  maxHeaderBytes: number;
  /** Node's requestTimeout: the whole request, body included. */
  requestTimeoutSeconds: number;
}

/** How long a socket may stay open after its error answer, for the client to read it. */
const LINGER_MS = 1000;

/** llhttp's codes for the commonest faults, in words; others are named by their code. */
const PROBLEMS: Record<string, string> = {
  HPE_INVALID_METHOD: 'unknown method',
  HPE_INVALID_URL: 'malformed URL',
  HPE_INVALID_CONSTANT: 'malformed request line',
  HPE_INVALID_VERSION: 'unsupported HTTP version',
  HPE_INVALID_HEADER_TOKEN: 'a header with characters not allowed in headers',
  HPE_LF_EXPECTED: 'a line not ended by CRLF',
  HPE_INVALID_CHUNK_SIZE: 'a chunk of the chunked body without a valid size',
  HPE_INVALID_TRANSFER_ENCODING: 'an unsupported Transfer-Encoding',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'both Content-Length and Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH: 'an invalid Content-Length',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'chunk extensions over the size limit',
};

function fromClientError(code: string, limits: ConnectionLimits): AppError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('HEADERS_TOO_LARGE', { limit: limits.maxHeaderBytes });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('REQUEST_TIMEOUT', { seconds: limits.requestTimeoutSeconds });
    default:
      return new AppError('MALFORMED_REQUEST', {
        problem: PROBLEMS[code] ?? `parser error ${/^[A-Z_]{1,40}$/.test(code) ? code : ''}`.trim(),
      });
  }
}

/**
 * Fastify's `clientErrorHandler` option: Node's 'clientError' event, for requests that never
 * reach fastify's handlers. Fastify's default answers in its own shape; this one writes the
 * project's JSON shape with the catalogue's message, unless an answer to this request has
 * started already (then only the connection is closed).
 */
export function clientErrorHandler(limits: ConnectionLimits) {
  return function (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    this.log.debug({ code: error.code }, 'unreadable request');
    // The rest of a body already answered with 413 was late or broken: the answer is out.
    if (isDraining(socket)) {
      socket.destroy();
      return;
    }
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(fromClientError(String(error.code ?? ''), limits)));
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
