// Both servers speak TLS 1.3 as is and, on TLS 1.2, only forward-secret AEAD suites (ECDHE with
// AES-GCM or ChaCha20-Poly1305): CBC, SHA-1 MACs and RSA key exchange are refused at the handshake.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

interface Handshake {
  protocol: string | null;
  cipher: string;
}

/** Resolves to what was agreed, or to the error code of a refused handshake. */
function handshake(
  url: string,
  ca: string,
  options: tls.ConnectionOptions,
): Promise<Handshake | string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: hostname,
      port: Number(port),
      ca,
      servername: 'localhost',
      ...options,
    });
    socket.on('secureConnect', () => {
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().standardName });
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

const REFUSED_ON_TLS12 = [
  'AES128-SHA', // RSA key exchange, CBC, SHA-1 (the suite the probe got through)
  'AES256-GCM-SHA384', // RSA key exchange: AEAD but not forward secret
  'ECDHE-RSA-AES128-SHA', // forward secret but CBC with SHA-1
  'ECDHE-RSA-AES256-SHA384', // forward secret but CBC
  'DHE-RSA-AES128-GCM-SHA256', // finite-field DHE
];

const ACCEPTED_ON_TLS12 = [
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

describe('TLS cipher suites', () => {
  let inst: TestInstallation;
  beforeAll(async () => {
    inst = await startTestInstallation();
  });
  afterAll(() => inst.stop());

  const servers = [
    { name: 'web server', url: () => inst.platform.webUrl },
    { name: 'cloak server', url: () => inst.platform.cloakUrl },
  ];

  describe.each(servers)('$name', ({ url }) => {
    it.each(REFUSED_ON_TLS12)('refuses %s on TLS 1.2', async (cipher) => {
      const result = await handshake(url(), inst.ca, { ...TLS12, ciphers: cipher });
      expect(result).toMatch(/^(ERR_SSL_|ECONNRESET)/);
    });

    it.each(ACCEPTED_ON_TLS12)('accepts %s on TLS 1.2', async (cipher) => {
      const result = await handshake(url(), inst.ca, { ...TLS12, ciphers: cipher });
      expect(result).toEqual({ protocol: 'TLSv1.2', cipher: expect.any(String) });
    });

    it('negotiates TLS 1.3 with a default client', async () => {
      const result = await handshake(url(), inst.ca, {});
      expect(result).toEqual({ protocol: 'TLSv1.3', cipher: expect.stringMatching(/^TLS_/) });
    });

    it('refuses TLS 1.1', async () => {
      const result = await handshake(url(), inst.ca, {
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
      });
      expect(result).toMatch(/^(ERR_SSL_|ECONNRESET)/);
    });
  });
});
