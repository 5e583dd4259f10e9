// The one JSON shape of every error answer, {"success":false,"error":...}, as an object or raw HTTP.
import { STATUS_CODES } from 'node:http';
import type { AppError } from '../errors/index.ts';

export function errorBody(error: AppError): { success: false; error: string } {
  return { success: false, error: error.message };
}

/**
 * A complete HTTP/1.1 error answer that closes the connection, for places without a response
 * object (a request Node could not parse). It holds only the catalogue's message: nothing of
 * the request is echoed.
 */
export function rawErrorResponse(error: AppError): string {
  const body = JSON.stringify(errorBody(error));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
