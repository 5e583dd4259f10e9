// Creates a fastify application served over TLS that asks every client for a certificate.
import Fastify, { type FastifyInstance } from 'fastify';
import { installErrorHandling } from './error-handling.ts';

export interface HttpsAppOptions {
  keyPem: string;
  certPem: string;
  /** Certificates of the CA(s) whose client certificates count as verified. */
  clientCaPem: string[];
  bodyLimit: number;
  logger: boolean | { level: string };
}

/**
 * The handshake accepts clients without a certificate or with a foreign one
 * (rejectUnauthorized: false) so that they get a JSON 401 that says what to fix, instead of a
 * bare TLS alert; authentication itself happens per request in client-auth.ts.
 */
export function createHttpsApp(options: HttpsAppOptions): FastifyInstance {
  const app = Fastify({
    https: {
      key: options.keyPem,
      cert: options.certPem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    bodyLimit: options.bodyLimit,
    logger: options.logger === false ? false : redactingLogger(options.logger),
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  installErrorHandling(app, options.bodyLimit);
  return app;
}

/** Keys, passwords and certificates never reach the log, whatever a route puts there. */
function redactingLogger(level: true | { level: string }) {
  return {
    level: level === true ? 'info' : level.level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.passphrase',
        '*.key',
      ],
      censor: '[redacted]',
    },
  };
}
