// Client-certificate authentication: identity and scope come only from a verified certificate.
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { AppError } from '../errors/index.ts';
import { identityFromPeerCertificate, type ClientIdentity } from '../pki/index.ts';
import type { AccessLevel, KeyType } from '../shared/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: ClientIdentity;
    /** The key's owner as the registry knows them now; never read from the request. */
    keyOwner?: KeyOwner;
  }
}

/** The person behind a key and their access level at the time of the request. */
export interface KeyOwner {
  personId: string | null;
  accessLevel: AccessLevel;
}

export type KeyStatusName = 'active' | 'revoked' | 'expired' | 'unknown';

/**
 * What authentication needs to know about issued keys. The air's key store implements it; the
 * cloak receives it from whoever assembles the process, so neither imports the other.
 */
export interface KeyRegistry {
  /** Synchronous for an in-memory registry, a promise for one that asks a database. */
  status(serial: string): KeyStatusResult | Promise<KeyStatusResult>;
  /**
   * Records a trusted run (who, what code, what prefetch) before it starts: the run waits for the
   * record. A registry without it cannot vouch for the audit trail that trusted runs require, so
   * its keys run untrusted.
   */
  trustedRunStarted?(run: TrustedRunRecord): void | Promise<void>;
  /** Told about every refused request, for the audit log; never given a secret. */
  authenticationFailed?(failure: AuthenticationFailure): void;
}

export interface KeyStatusResult {
  status: KeyStatusName;
  key?: {
    orgId: string;
    type: KeyType;
    userId: string | null;
    /** Who created the key; absent or null when nobody did (the CLI operator). */
    ownerId?: string | null;
    /** The owner's access level now; absent means untrusted. */
    accessLevel?: AccessLevel;
  };
}

export interface TrustedRunRecord {
  orgId: string;
  /** The audit log's name for who started it, e.g. "key:<id>". */
  actor: string;
  code: string;
  /** The prefetch as JSON. */
  prefetch: string;
  /** Where it came from, e.g. "cloak /task/run", and the caller's task id if any. */
  via: string;
}

export interface AuthenticationFailure {
  /** The catalogue code of the 401 the client got. */
  reason: string;
  method: string;
  path: string;
  remoteAddress: string | null;
  /** What the certificate claimed, when there was one that could be read. */
  serial?: string;
  orgId?: string;
  keyType?: KeyType;
}

/**
 * Runs on every request (not just at the TLS handshake), so revoking a key also stops a client
 * that keeps a connection open.
 */
export function requireKey(
  registry: KeyRegistry,
  allowed: readonly KeyType[],
): preHandlerHookHandler {
  const needed = allowed.join(' or ');
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
    try {
      const { identity, owner } = await authenticateRequest(request, registry, allowed, needed);
      request.identity = identity;
      request.keyOwner = owner;
    } catch (error) {
      if (error instanceof AppError) reportFailure(request, registry, error);
      throw error;
    }
  };
}

async function authenticateRequest(
  request: FastifyRequest,
  registry: KeyRegistry,
  allowed: readonly KeyType[],
  needed: string,
): Promise<{ identity: ClientIdentity; owner: KeyOwner }> {
  const identity = peerIdentity(request.raw.socket as TLSSocket, needed);

  const { status, key } = await registry.status(identity.serial);
  if (status === 'revoked') throw new AppError('CLIENT_KEY_REVOKED', { keyType: identity.keyType });
  if (status === 'expired' || status === 'unknown' || !key) {
    throw new AppError(
      status === 'expired' ? 'CLIENT_CERTIFICATE_UNTRUSTED' : 'CLIENT_KEY_UNKNOWN',
      {
        keyType: identity.keyType,
      },
    );
  }
  // The registry and the certificate must agree; a mismatch means a forged or confused record.
  if (
    key.orgId !== identity.orgId ||
    key.type !== identity.keyType ||
    (key.userId ?? undefined) !== identity.userId
  ) {
    throw new AppError('CLIENT_CERTIFICATE_UNTRUSTED');
  }
  if (!allowed.includes(identity.keyType)) {
    throw new AppError('WRONG_KEY_TYPE', { required: needed, actual: identity.keyType });
  }
  const owner: KeyOwner = {
    personId: key.ownerId ?? null,
    accessLevel: key.accessLevel === 'trusted' ? 'trusted' : 'untrusted',
  };
  return { identity, owner };
}

/**
 * A connection's certificate cannot change after the handshake (renegotiation is off in TLS 1.3
 * and refused by Node for 1.2 clients here), so it is parsed once per socket. The key's status
 * is still looked up on every request.
 */
const identities = new WeakMap<TLSSocket, ClientIdentity | null>();

function peerIdentity(socket: TLSSocket, needed: string): ClientIdentity {
  let identity = identities.get(socket);
  if (identity === undefined) {
    const peer =
      typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    if (!peer || Object.keys(peer).length === 0) {
      throw new AppError('CLIENT_CERTIFICATE_REQUIRED', { keyType: needed });
    }
    identity = (socket.authorized ? identityFromPeerCertificate(peer) : undefined) ?? null;
    identities.set(socket, identity);
  }
  if (identity === null) throw new AppError('CLIENT_CERTIFICATE_UNTRUSTED');
  return identity;
}

function reportFailure(request: FastifyRequest, registry: KeyRegistry, error: AppError): void {
  if (!registry.authenticationFailed) return;
  const claimed = identities.get(request.raw.socket as TLSSocket) ?? undefined;
  registry.authenticationFailed({
    reason: error.code,
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    remoteAddress: request.ip ?? null,
    ...(claimed ? { serial: claimed.serial, orgId: claimed.orgId, keyType: claimed.keyType } : {}),
  });
}

/** The key's owner of an authenticated request: untrusted unless the registry said otherwise. */
export function keyOwnerOf(request: FastifyRequest): KeyOwner {
  return request.keyOwner ?? { personId: null, accessLevel: 'untrusted' };
}

/** The identity of an authenticated request; routes behind requireKey can rely on it. */
export function identityOf(request: FastifyRequest): ClientIdentity {
  if (!request.identity) throw new Error('identityOf called on a route without requireKey');
  return request.identity;
}
