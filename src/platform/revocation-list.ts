// Keeps the TLS layer's CRL fresh: re-signed at start, on every revocation, and daily.
import type { FastifyInstance } from 'fastify';
import type { AirStore } from '../air/index.ts';
import { setRevocationList } from '../http/index.ts';
import { createCrl, type CertificateAndKey } from '../pki/index.ts';

const DAY_MS = 86_400_000;
/** A CRL past its nextUpdate makes OpenSSL refuse every certificate, so it is re-signed long before. */
const CRL_VALID_MS = 7 * DAY_MS;
const RESIGN_AFTER_MS = DAY_MS;
/** Revocations made by another process (the CLI) reach the TLS layer within this. */
const POLL_MS = 1000;

export class RevocationList {
  #stamp = '';
  #signedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ca: CertificateAndKey,
    private readonly keys: Pick<AirStore['keys'], 'revocations' | 'revocationStamp'>,
  ) {}

  /** The current CRL as PEM, for creating the servers. */
  async sign(now = Date.now()): Promise<string> {
    this.#stamp = await this.keys.revocationStamp();
    this.#signedAt = now;
    const revoked = (await this.keys.revocations(now)).map((r) => ({
      serial: r.serial,
      revokedAt: new Date(r.revokedAt),
    }));
    return createCrl(this.ca, revoked, {
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + CRL_VALID_MS),
    });
  }

  /** Polls for revocations and keeps `servers` on the newest CRL until `stop`. */
  watch(servers: readonly FastifyInstance[]): void {
    this.#timer = setInterval(() => void this.refresh(servers), POLL_MS);
    this.#timer.unref();
  }

  /** Re-signs when a key was revoked since the last CRL or the CRL is a day old. */
  refresh(servers: readonly FastifyInstance[], now = Date.now()): Promise<void> {
    const next = this.#refreshing.then(async () => {
      const stale = now - this.#signedAt >= RESIGN_AFTER_MS;
      if (!stale && (await this.keys.revocationStamp()) === this.#stamp) return;
      const pem = await this.sign(now);
      for (const server of servers) setRevocationList(server, pem);
    });
    // A failed signing is retried at the next poll; per-request checks cover the gap.
    this.#refreshing = next.catch(() => undefined);
    return next;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
