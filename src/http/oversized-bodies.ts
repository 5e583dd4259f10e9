// Answers bodies over the limit with a 413 the client can read, instead of a reset mid-upload.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import { errorBody } from './error-body.ts';

/**
 * The most of an oversized body the server reads (and throws away) after its 413, so that the
 * client can finish sending and read the answer. Past this the connection is closed.
 */
export const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;

/** Sockets reading the rest of a refused body before its 413 is sent. */
const draining = new WeakSet<Socket>();

/** Whether `socket` is reading the rest of a refused body (connection-errors.ts closes it quietly). */
export function isDraining(socket: Socket): boolean {
  return draining.has(socket);
}

/**
 * Fastify answers a body over the limit at once, with `Connection: close`, and stops reading;
 * Node closes the socket as soon as the 413 is written, so a client still sending its body gets
 * EPIPE or ECONNRESET instead of the answer (curl, for one, reports only the broken pipe). So the
 * answer waits: the rest of the body is read into the void (DRAIN_LIMIT_BYTES at most; Node's
 * requestTimeout bounds the time), then the 413 goes out and the connection closes, as it
 * would after any answer. A body declared or found to be larger than the bound is answered at
 * once, as before.
 */
export function drainOversizedBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length']);
  if (raw.complete || raw.destroyed || declared > DRAIN_LIMIT_BYTES) return Promise.resolve();
  const socket = raw.socket;
  draining.add(socket);
  return new Promise((resolve) => {
    let drained = 0;
    const done = () => {
      draining.delete(socket);
      raw.off('data', count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) done();
    };
    // A preParsing stream (gunzip) may still be piped from the request: the rest is not decoded.
    raw.unpipe();
    raw.on('data', count);
    raw.once('end', done);
    raw.once('close', done);
    raw.resume();
  });
}

/**
 * Node's 'checkContinue' event: a client that asks before sending its body (Expect:
 * 100-continue) with a Content-Length over the limit gets the 413 at once and never sends it;
 * any other goes on to fastify as usual.
 */
export function answerExpectContinue(server: Server, bodyLimit: number): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > bodyLimit) {
      const error = new AppError('PAYLOAD_TOO_LARGE', { limit: bodyLimit });
      const body = JSON.stringify(errorBody(error));
      response.writeHead(error.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      response.end(body);
      return;
    }
    response.writeContinue();
    server.emit('request', request, response);
  });
}
