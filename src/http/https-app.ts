// Creates a fastify application served over TLS that asks every client for a certificate.
import { randomUUID } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { identityFromPeerCertificate, normalizeSerial } from '../pki/index.ts';
import type { KeyType } from '../shared/index.ts';
import { AccessLog, type AccessLogMode } from './access-log.ts';
import type { KeyRegistry } from './client-auth.ts';
import { clientErrorHandler } from './connection-errors.ts';
import { installErrorHandling, MAX_PARAM_LENGTH, type ErrorAnswer } from './error-handling.ts';
import { acceptJsonBodies } from './json-bodies.ts';
import { answerExpectContinue } from './oversized-bodies.ts';

export interface HttpsAppOptions {
  keyPem: string;
  certPem: string;
  /** Certificates of the CA(s) whose client certificates count as verified. */
  clientCaPem: string[];
  bodyLimit: number;
  logger: boolean | LogOptions;
  /** The CA's revocation list; without one, revocation is enforced per request only. */
  crlPem?: string;
  /** Told about every connection the TLS layer refuses (never given a secret). */
  onRefusedCertificate?: (refusal: RefusedCertificate) => void;
  /** Told about every answered request (the operator's latency metrics). */
  onAnswered?: (answered: AnsweredRequest) => void;
}

/** One answered request, by route pattern (never the raw URL: no ids or tokens in a label). */
export interface AnsweredRequest {
  method: string;
  /** The route as declared, e.g. `/api/tasks/:token`; `(unmatched)` for a 404 of no route. */
  route: string;
  status: number;
  seconds: number;
}

/** Names each request in its log lines and in the answer; a UUID is unique across servers. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** How a server logs: its level, its access log, and where the lines go (stdout by default). */
export interface LogOptions {
  level: string;
  /** One line per request: `all` (the default), `errors` (4xx, 5xx) or `off`. */
  access?: AccessLogMode;
  /** With access `all`, the share of successful requests logged (default 1). */
  accessSample?: number;
  /** A pino destination, e.g. pino.destination({ sync: false }) for writes off the hot path. */
  stream?: { write(line: string): unknown };
}

export interface RefusedCertificate {
  /** OpenSSL's verdict, e.g. CERT_REVOKED, CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  reason: string;
  remoteAddress: string | null;
  /** The presented certificate's serial, lowercase hex, when it could be read. */
  serial?: string;
  /** What the certificate claims (unverified: it was refused). */
  orgId?: string;
  keyType?: KeyType;
}

/** The certificates a server is started with. */
export interface ServerTls {
  keyPem: string;
  certPem: string;
  caCertPem: string;
  crlPem?: string;
}

/** The TLS part of HttpsAppOptions, with refused handshakes reported to the key registry. */
export function tlsOptions(
  tls: ServerTls,
  registry: KeyRegistry,
): Pick<HttpsAppOptions, 'keyPem' | 'certPem' | 'clientCaPem' | 'crlPem' | 'onRefusedCertificate'> {
  return {
    keyPem: tls.keyPem,
    certPem: tls.certPem,
    clientCaPem: [tls.caCertPem],
    ...(tls.crlPem !== undefined ? { crlPem: tls.crlPem } : {}),
    onRefusedCertificate: ({ reason, ...claimed }) =>
      registry.authenticationFailed?.({
        reason: `TLS_${reason}`,
        method: 'TLS',
        path: '(handshake)',
        ...claimed,
      }),
  };
}

const contexts = new WeakMap<FastifyInstance, HttpsAppOptions>();

/**
 * TLS 1.2 suites: forward secret (ECDHE) with an AEAD cipher (AES-GCM, ChaCha20-Poly1305) only,
 * as in Mozilla's "intermediate" profile without its finite-field DHE. No CBC, no SHA-1 MAC, no
 * RSA key exchange. TLS 1.3's suites are all of that kind and stay Node's defaults.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Node's default maxHeaderSize, named: request line and headers; more answers 431. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Node's default requestTimeout, which fastify turns off: the whole request, body included. */
const REQUEST_TIMEOUT_SECONDS = 300;

function secureContextOptions(options: HttpsAppOptions, crlPem: string | undefined) {
  return {
    key: options.keyPem,
    cert: options.certPem,
    ca: options.clientCaPem,
    minVersion: 'TLSv1.2' as const,
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    ...(crlPem !== undefined ? { crl: crlPem } : {}),
  };
}

/**
 * Two locks. The TLS layer closes every connection whose certificate fails verification (a foreign
 * CA, expired, or on the CRL) before a byte of HTTP is read. Clients without a certificate get
 * through the handshake (so not rejectUnauthorized, which would drop them too) and then a JSON 401
 * saying which key to use, and browsers can reach the login. Authentication itself happens per
 * request in client-auth.ts, which also stops a key revoked while its connection stays open.
 */
export function createHttpsApp(options: HttpsAppOptions): FastifyInstance {
  // Routing errors need the error answer, which needs the app: it is filled in just below.
  const routing: { answer?: ErrorAnswer } = {};
  const app = Fastify({
    https: {
      ...secureContextOptions(options, options.crlPem),
      requestCert: true,
      rejectUnauthorized: false,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    bodyLimit: options.bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: REQUEST_TIMEOUT_SECONDS * 1000,
    logger: options.logger === false ? false : redactingLogger(options.logger),
    logController: accessLog(options.logger),
    // Its 503 has fastify's shape; error-handling.ts answers requests during close instead.
    return503OnClosing: false,
    forceCloseConnections: true,
    // Random, not fastify's per-process counter, which two servers (or a restart) repeat; never
    // taken from the client, who could then make lines of other requests look like theirs.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    clientErrorHandler: clientErrorHandler({
      maxHeaderBytes: MAX_HEADER_BYTES,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
    }),
    frameworkErrors: (error, request, reply) => routing.answer?.(error, request, reply),
  }) as unknown as FastifyInstance;
  routing.answer = installErrorHandling(app, options.bodyLimit);
  acceptJsonBodies(app);
  answerExpectContinue(app.server as unknown as HttpsServer, options.bodyLimit);
  contexts.set(app, options);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  const { onAnswered } = options;
  if (onAnswered) {
    app.addHook('onResponse', async (request, reply) => {
      onAnswered({
        method: request.method,
        route: request.routeOptions.url ?? '(unmatched)',
        status: reply.statusCode,
        seconds: reply.elapsedTime / 1000,
      });
    });
  }
  // Prepended, so the socket is gone before the HTTP parser sees its first request.
  app.server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized) return;
    const peer = socket.getPeerCertificate();
    if (!peer || Object.keys(peer).length === 0) return;
    const serial = peer.serialNumber ? normalizeSerial(peer.serialNumber) : undefined;
    const claimed = identityFromPeerCertificate(peer);
    options.onRefusedCertificate?.({
      reason: String(socket.authorizationError ?? 'UNVERIFIED'),
      remoteAddress: socket.remoteAddress ?? null,
      ...(serial !== undefined ? { serial } : {}),
      ...(claimed ? { orgId: claimed.orgId, keyType: claimed.keyType } : {}),
    });
    socket.destroy();
  });
  return app;
}

/** Swaps in a new CRL for the connections that follow; open connections keep their handshake. */
export function setRevocationList(app: FastifyInstance, crlPem: string): void {
  const options = contexts.get(app);
  if (!options) throw new Error('setRevocationList needs an app made by createHttpsApp');
  (app.server as unknown as TlsServer).setSecureContext(secureContextOptions(options, crlPem));
}

/** One line per request (access-log.ts) instead of fastify's two. */
function accessLog(logger: boolean | LogOptions): AccessLog {
  if (logger === false) return new AccessLog({ mode: 'off', sample: 0 });
  const log: Partial<LogOptions> = logger === true ? {} : logger;
  return new AccessLog({ mode: log.access ?? 'all', sample: log.accessSample ?? 1 });
}

/**
 * Keys, passwords and certificates never reach the log, whatever a route puts there. Also the
 * options of the platform's own logger (background work), so that its lines are redacted alike.
 */
export function redactingLogger(log: true | LogOptions) {
  return {
    level: log === true ? 'info' : log.level,
    ...(log !== true && log.stream ? { stream: log.stream } : {}),
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
