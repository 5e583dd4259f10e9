// Request body decoding for upload endpoints: gzip accepted, unknown encodings refused, size bounded.
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/index.ts';

/**
 * Fastify applies its bodyLimit to the stream a preParsing hook returns, so the limit holds for
 * the decompressed size too and a small gzip bomb cannot inflate past it.
 */
export function acceptGzipBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip') {
      throw new AppError('UNSUPPORTED_ENCODING', { encoding });
    }
    const gunzip = createGunzip();
    payload.on('error', (error) => gunzip.destroy(error));
    gunzip.on('error', () => undefined);
    const decoded = payload.pipe(gunzip);
    // Keeps fastify's Content-Length check meaningful: it compares against the bytes received.
    let received = 0;
    payload.on('data', (chunk: Buffer) => {
      received += chunk.length;
      (decoded as unknown as { receivedEncodedLength: number }).receivedEncodedLength = received;
    });
    return decoded;
  });
}
