// Real TLS handshakes: issued keys (.pfx and PEM) authenticate to a server and carry their identity.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_TYPES } from '../shared/index.ts';
import {
  createCertificateAuthority,
  identityFromPeerCertificate,
  issueClientCertificate,
  issueServerCertificate,
  toEncryptedPem,
  toPkcs12,
  type CertificateAndKey,
  type ClientIdentity,
  type ClientSubject,
} from './index.ts';

const run = promisify(execFile);
const PASSWORD = 'correct horse';

interface Seen {
  authorized: boolean;
  identity: ClientIdentity | null;
}

let ca: CertificateAndKey;
let server: https.Server;
let port: number;
let dir: string;

beforeAll(async () => {
  ca = createCertificateAuthority({ commonName: 'OpenCloak test CA', validDays: 30 });
  const serverCert = issueServerCertificate(ca, {
    hosts: ['localhost', '127.0.0.1', '::1'],
    validDays: 30,
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opencloak-pki-tls-'));
  fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
  server = https.createServer(
    {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      ca: [ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const seen: Seen = {
        authorized: socket.authorized,
        identity: identityFromPeerCertificate(socket.getPeerCertificate()) ?? null,
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The client verifies the server against our CA (rejectUnauthorized defaults to true). */
function request(options: https.RequestOptions): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, ca: ca.certPem, agent: false, ...options },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as Seen));
      },
    );
    req.on('error', reject);
  });
}

function issue(subject: ClientSubject, authority = ca) {
  const issued = issueClientCertificate(authority, subject, { validDays: 7 });
  const material = { ...issued, caCertPem: authority.certPem };
  return { issued, material, expected: { ...subject, serial: issued.serial } };
}

function keyFile(name: string, content: Buffer | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('client certificates over TLS', () => {
  it.each(KEY_TYPES)('a %s key in a .pfx is authorized and identified exactly', async (keyType) => {
    const subject: ClientSubject = { orgId: 'org-1', keyType, keyId: `key-${keyType}` };
    if (keyType === 'upload_user') subject.userId = 'user-42';
    const { material, expected } = issue(subject);
    const seen = await request({ pfx: toPkcs12(material, PASSWORD), passphrase: PASSWORD });
    expect(seen).toEqual({ authorized: true, identity: expected });
  });

  it.each([
    ['unicode and punctuation', 'Zoë Ünal 💥 "quoted", a=b+c; <x> \\ / # , \n next line'],
    ['200 characters', 'ü'.repeat(100) + 'x,'.repeat(50)],
  ])('an upload_user id with %s round-trips (AES and legacy .pfx)', async (_what, userId) => {
    const { material, expected } = issue({
      orgId: 'Org ä',
      keyType: 'upload_user',
      keyId: 'k',
      userId,
    });
    for (const legacy of [false, true]) {
      const pfx = toPkcs12(material, PASSWORD, { legacy });
      const seen = await request({ pfx, passphrase: PASSWORD });
      expect(seen).toEqual({ authorized: true, identity: expected });
    }
  });

  it('the PEM file serves as both cert and key with the passphrase', async () => {
    const { material, expected } = issue({ orgId: 'o', keyType: 'web_api', keyId: 'pem-key' });
    const pem = toEncryptedPem(material, PASSWORD);
    const seen = await request({ cert: pem, key: pem, passphrase: PASSWORD });
    expect(seen).toEqual({ authorized: true, identity: expected });
  });

  it('a certificate from a different CA is not authorized', async () => {
    const otherCa = createCertificateAuthority({ commonName: 'OpenCloak test CA', validDays: 30 });
    const { material } = issue({ orgId: 'o', keyType: 'admin', keyId: 'intruder' }, otherCa);
    const seen = await request({ pfx: toPkcs12(material, PASSWORD), passphrase: PASSWORD });
    expect(seen.authorized).toBe(false);
  });

  it('a wrong .pfx password fails on the client', async () => {
    const { material } = issue({ orgId: 'o', keyType: 'admin', keyId: 'k' });
    await expect(
      request({ pfx: toPkcs12(material, PASSWORD), passphrase: 'wrong!' }),
    ).rejects.toThrow();
  });
});

describe('the server certificate', () => {
  it('verifies against the CA for localhost as well as 127.0.0.1', async () => {
    const { material } = issue({ orgId: 'o', keyType: 'web_api', keyId: 'k' });
    const seen = await request({
      servername: 'localhost',
      pfx: toPkcs12(material, PASSWORD),
      passphrase: PASSWORD,
    });
    expect(seen.authorized).toBe(true);
  });

  it('is valid for every configured host and no other', async () => {
    const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port, ca: ca.certPem, servername: 'localhost' },
        () => {
          resolve(socket.getPeerCertificate());
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      expect(tls.checkServerIdentity(host, cert)).toBeUndefined();
    }
    expect(tls.checkServerIdentity('example.com', cert)).toBeInstanceOf(Error);
    expect(tls.checkServerIdentity('10.0.0.1', cert)).toBeInstanceOf(Error);
  });

  it('is refused by a client that trusts another CA', async () => {
    const otherCa = createCertificateAuthority({ commonName: 'Other', validDays: 30 });
    await expect(request({ ca: otherCa.certPem })).rejects.toThrow(
      /self.signed|unable to verify|issuer/i,
    );
  });
});

describe('curl', () => {
  const curl = (args: string[]) =>
    run('curl', ['-sS', '--fail', '--cacert', path.join(dir, 'ca.crt'), ...args], {
      timeout: 20_000,
    });

  it('authenticates with --cert-type P12 (AES and legacy .pfx)', async () => {
    const { material, expected } = issue({ orgId: 'o', keyType: 'task_runner', keyId: 'curl-key' });
    for (const legacy of [false, true]) {
      const pfx = keyFile(`curl-${legacy}.pfx`, toPkcs12(material, PASSWORD, { legacy }));
      const { stdout } = await curl([
        '--cert-type',
        'P12',
        '--cert',
        `${pfx}:${PASSWORD}`,
        `https://127.0.0.1:${port}/`,
      ]);
      expect(JSON.parse(stdout)).toEqual({ authorized: true, identity: expected });
    }
  });

  it('authenticates with the PEM file as --cert file:password, by host name too', async () => {
    const { material, expected } = issue({ orgId: 'o', keyType: 'upload_any', keyId: 'curl-pem' });
    const pem = keyFile('curl.pem', toEncryptedPem(material, PASSWORD));
    const { stdout } = await curl([
      '--cert',
      `${pem}:${PASSWORD}`,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      `https://localhost:${port}/`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ authorized: true, identity: expected });
  });

  it('fails with a wrong password', async () => {
    const { material } = issue({ orgId: 'o', keyType: 'upload_any', keyId: 'k' });
    const pfx = keyFile('wrong.pfx', toPkcs12(material, PASSWORD));
    await expect(
      curl(['--cert-type', 'P12', '--cert', `${pfx}:nope!`, `https://127.0.0.1:${port}/`]),
    ).rejects.toThrow();
  });
});
