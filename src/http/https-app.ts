// Creates a fastify application served over TLS that asks every client for a certificate.
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { identityFromPeerCertificate, normalizeSerial } from '../pki/index.ts';
import type { KeyType } from '../shared/index.ts';
import type { KeyRegistry } from './client-auth.ts';
import { installErrorHandling } from './error-handling.ts';

export interface HttpsAppOptions {
  keyPem: string;
  certPem: string;
  /** Certificates of the CA(s) whose client certificates count as verified. */
  clientCaPem: string[];
  bodyLimit: number;
  logger: boolean | { level: string };
  /** The CA's revocation list; without one, revocation is enforced per request only. */
  crlPem?: string;
  /** Told about every connection the TLS layer refuses (never given a secret). */
  onRefusedCertificate?: (refusal: RefusedCertificate) => void;
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

function secureContextOptions(options: HttpsAppOptions, crlPem: string | undefined) {
  return {
    key: options.keyPem,
    cert: options.certPem,
    ca: options.clientCaPem,
    minVersion: 'TLSv1.2' as const,
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
  const app = Fastify({
    https: {
      ...secureContextOptions(options, options.crlPem),
      requestCert: true,
      rejectUnauthorized: false,
    },
    bodyLimit: options.bodyLimit,
    logger: options.logger === false ? false : redactingLogger(options.logger),
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  installErrorHandling(app, options.bodyLimit);
  contexts.set(app, options);
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
