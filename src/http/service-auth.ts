// Authentication of the air's service credential on the cloak API's /service routes.
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { AppError } from '../errors/index.ts';
import type { KeyRegistry } from './client-auth.ts';
import {
  AIR_SERVICE_KEY_TYPE,
  identityFromPeerCertificate,
  serviceIdentityFromPeerCertificate,
  type ServiceIdentity,
} from '../pki/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    service?: ServiceIdentity;
  }
}

/** What the cloak knows of the service keys it has issued (platform/service-keys.ts keeps them). */
export interface ServiceKeyRegistry {
  status(serial: string): 'active' | 'revoked' | 'unknown';
}

/**
 * Only an air_service certificate of this installation's CA, known and not revoked, passes. An
 * analyst key gets a 403 that says so: it is authenticated, but these routes let the caller name
 * any organisation, which only the air (that checked its own logins first) may do.
 */
export function requireServiceKey(
  registry: ServiceKeyRegistry,
  /** Told about every refusal, for the audit log, as on the analysts' routes. */
  audit?: Pick<KeyRegistry, 'authenticationFailed'>,
): preHandlerHookHandler {
  return async function authenticateService(request: FastifyRequest) {
    try {
      request.service = serviceIdentityOf(request, registry);
    } catch (error) {
      if (error instanceof AppError) reportFailure(request, audit, error);
      throw error;
    }
  };
}

function serviceIdentityOf(request: FastifyRequest, registry: ServiceKeyRegistry): ServiceIdentity {
  const socket = request.raw.socket as TLSSocket;
  const peer =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!peer || Object.keys(peer).length === 0) {
    throw new AppError('CLIENT_CERTIFICATE_REQUIRED', { keyType: AIR_SERVICE_KEY_TYPE });
  }
  if (!socket.authorized) throw new AppError('CLIENT_CERTIFICATE_UNTRUSTED');
  const service = serviceIdentityFromPeerCertificate(peer);
  if (!service) {
    const analyst = identityFromPeerCertificate(peer);
    if (analyst) throw new AppError('SERVICE_KEY_REQUIRED', { keyType: analyst.keyType });
    throw new AppError('CLIENT_CERTIFICATE_UNTRUSTED');
  }
  const status = registry.status(service.serial);
  if (status === 'revoked') {
    throw new AppError('CLIENT_KEY_REVOKED', { keyType: AIR_SERVICE_KEY_TYPE });
  }
  if (status !== 'active') {
    throw new AppError('CLIENT_KEY_UNKNOWN', { keyType: AIR_SERVICE_KEY_TYPE });
  }
  return service;
}

function reportFailure(
  request: FastifyRequest,
  audit: Pick<KeyRegistry, 'authenticationFailed'> | undefined,
  error: AppError,
): void {
  if (!audit?.authenticationFailed) return;
  const socket = request.raw.socket as TLSSocket;
  const peer =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  const analyst = peer && socket.authorized ? identityFromPeerCertificate(peer) : undefined;
  const service = peer && socket.authorized ? serviceIdentityFromPeerCertificate(peer) : undefined;
  audit.authenticationFailed({
    reason: error.code,
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    remoteAddress: request.ip ?? null,
    ...(analyst
      ? { serial: analyst.serial, orgId: analyst.orgId, keyType: analyst.keyType }
      : service
        ? { serial: service.serial }
        : {}),
  });
}
