// PKCS#12 (.pfx) export of a client key: AES-256 by default, 3DES ("legacy") for old keychains.
import crypto from 'node:crypto';
import forge from 'node-forge';
import { checkExportPassword, checkMaterial } from './export-material.ts';
import type { ExportMaterial } from './types.ts';

const { asn1, pki } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
/** OpenSSL's default; Node's own PBES2 export (used for the AES key bag) fixes it at this value too. */
const ITERATIONS = 2048;
const MAC_KEY_ID = 3;

type Asn1 = forge.asn1.Asn1;
const seq = (items: Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
const set = (items: Asn1[]) => asn1.create(U, T.SET, true, items);
const oid = (id: string) => asn1.create(U, T.OID, false, asn1.oidToDer(id).getBytes());
const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);
const explicit0 = (inner: Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [inner]);
const der = (node: Asn1) => asn1.toDer(node).getBytes();
const binary = (buf: Buffer) => buf.toString('binary');

/**
 * Layout (what OpenSSL, Windows and macOS all read): an unencrypted SafeContents with the client
 * certificate and the CA certificate, then a SafeContents with the pkcs8ShroudedKeyBag; an HMAC
 * over both. Certificates are public, so encrypting their bag (OpenSSL's default) adds nothing.
 *
 * Default: key bag PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) written by Node's OpenSSL, MAC
 * HMAC-SHA256. Legacy: pbeWithSHAAnd3-KeyTripleDES-CBC and HMAC-SHA1, which pre-2020 keychains
 * need.
 */
export function toPkcs12(
  m: ExportMaterial,
  password: string,
  opts: { legacy?: boolean; friendlyName?: string } = {},
): Buffer {
  checkExportPassword(password);
  const { cert, caCert, privateKey } = checkMaterial(m);
  const legacy = opts.legacy === true;

  // Pairs key and certificate for importers; OpenSSL uses the certificate's SHA-1 the same way.
  const localKeyId = binary(crypto.createHash('sha1').update(cert.raw).digest());
  const attributes = bagAttributes(localKeyId, opts.friendlyName);

  const certBags = seq([certBag(cert.raw, attributes), certBag(caCert.raw)]);
  const keyBag = seq([
    oid(pki.oids.pkcs8ShroudedKeyBag!),
    explicit0(encryptedKeyInfo(privateKey, password, legacy)),
    attributes,
  ]);
  const authenticatedSafe = seq([dataContentInfo(certBags), dataContentInfo(seq([keyBag]))]);
  const safeDer = der(authenticatedSafe);

  const hash = legacy ? 'sha1' : 'sha256';
  const md = legacy ? forge.md.sha1.create() : forge.md.sha256.create();
  const macSalt = binary(crypto.randomBytes(legacy ? 8 : 16));
  // The PKCS#12 KDF takes the password as BMPString (UTF-16), which is what forge feeds it.
  const macKey = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(macSalt),
    MAC_KEY_ID,
    ITERATIONS,
    md.digestLength,
    md,
  );
  const mac = crypto
    .createHmac(hash, Buffer.from(macKey.getBytes(), 'binary'))
    .update(Buffer.from(safeDer, 'binary'))
    .digest();
  const macData = seq([
    seq([seq([oid(pki.oids[hash]!), asn1.create(U, T.NULL, false, '')]), octets(binary(mac))]),
    octets(macSalt),
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(ITERATIONS).getBytes()),
  ]);
  const pfx = seq([
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(3).getBytes()),
    seq([oid(pki.oids.data!), explicit0(octets(safeDer))]),
    macData,
  ]);
  return Buffer.from(der(pfx), 'binary');
}

function encryptedKeyInfo(privateKey: crypto.KeyObject, password: string, legacy: boolean): Asn1 {
  if (!legacy) {
    // Native PBES2 feeds PBKDF2 the password's UTF-8 bytes, as every OpenSSL-based reader expects.
    const encrypted = privateKey.export({
      type: 'pkcs8',
      format: 'der',
      cipher: 'aes-256-cbc',
      passphrase: password,
    });
    return asn1.fromDer(binary(encrypted));
  }
  const plain = asn1.fromDer(binary(privateKey.export({ type: 'pkcs8', format: 'der' })));
  return pki.encryptPrivateKeyInfo(plain, password, { algorithm: '3des', count: ITERATIONS });
}

function certBag(certDer: Buffer, attributes?: Asn1): Asn1 {
  const bag = explicit0(seq([oid(pki.oids.x509Certificate!), explicit0(octets(binary(certDer)))]));
  return seq(
    attributes ? [oid(pki.oids.certBag!), bag, attributes] : [oid(pki.oids.certBag!), bag],
  );
}

function bagAttributes(localKeyId: string, friendlyName: string | undefined): Asn1 {
  const attributes = [seq([oid(pki.oids.localKeyId!), set([octets(localKeyId)])])];
  if (friendlyName !== undefined) {
    attributes.push(
      seq([
        oid(pki.oids.friendlyName!),
        // forge writes a BMPSTRING's value as UTF-16 code units itself.
        set([asn1.create(U, T.BMPSTRING, false, friendlyName)]),
      ]),
    );
  }
  return set(attributes);
}

function dataContentInfo(safeContents: Asn1): Asn1 {
  return seq([oid(pki.oids.data!), explicit0(octets(der(safeContents)))]);
}
