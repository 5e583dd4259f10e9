// The keyed noise source: HMAC-SHA256 over a domain-separated seed, turned into sticky normal draws.
import { createHmac } from 'node:crypto';

/**
 * A seed says *what* a draw is about (a bucket identity, a set of users), as a list of parts.
 * Seeds carry no secret: the installation secret keys the draw itself. Parts are encoded with
 * a type tag and a length prefix, so that no two different seeds encode to the same bytes
 * (`["ab", "c"]` and `["a", "bc"]` differ, and so do a string and the same bytes).
 */
export type SeedPart = string | Uint8Array;
export type Seed = readonly SeedPart[];

/** Versioned domain tag of every noise draw; changing it changes every published count. */
const NOISE_DOMAIN = 'opencloak/anonymizer/noise/v1';
const STRING_TAG = 0x01;
const BYTES_TAG = 0x02;
const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

/** The unambiguous byte encoding of a list of parts: per part a tag byte, a 32-bit length, the bytes. */
export function encodeSeed(parts: readonly SeedPart[]): Uint8Array {
  const encoded = parts.map((part) =>
    typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part),
  );
  const out = Buffer.alloc(encoded.reduce((n, bytes) => n + 5 + bytes.length, 0));
  let offset = 0;
  encoded.forEach((bytes, i) => {
    offset = out.writeUInt8(typeof parts[i] === 'string' ? STRING_TAG : BYTES_TAG, offset);
    offset = out.writeUInt32BE(bytes.length, offset);
    offset += bytes.copy(out, offset);
  });
  return out;
}

/**
 * 32 pseudo-random bytes, a pure function of (secret, seed, step):
 * HMAC-SHA256(secret, encode([domain, step, ...seed])). The step names the use of the draw
 * ("count", "threshold", ...), so that different uses of one seed are independent.
 */
export function drawBytes(secret: Uint8Array, seed: Seed, step: string): Uint8Array {
  if (secret.length === 0) throw new RangeError('the noise secret must not be empty');
  const message = encodeSeed([NOISE_DOMAIN, step, ...seed]);
  return new Uint8Array(createHmac('sha256', secret).update(message).digest());
}

/**
 * A uniform number strictly inside (0, 1) from 52 bits at `offset`: the midpoint (2k + 1) / 2^53
 * of one of 2^52 equal cells, so it has 53-bit resolution, is exact in a double, and is never 0
 * or 1 (a logarithm of it is always finite).
 */
export function uniformFromBytes(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high20 = view.getUint32(offset) >>> 12;
  const low32 = view.getUint32(offset + 4);
  const k = high20 * TWO_POW_32 + low32; // < 2^52
  return (2 * k + 1) / TWO_POW_53;
}

/** A standard normal draw (mean 0, sd 1), sticky in (secret, seed, step): Box-Muller on two uniforms. */
export function standardNormal(secret: Uint8Array, seed: Seed, step: string): number {
  const bytes = drawBytes(secret, seed, step);
  const u1 = uniformFromBytes(bytes, 0);
  const u2 = uniformFromBytes(bytes, 8);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Normal noise of standard deviation `sd` for one seed; 0 when sd is 0 (no hashing at all). */
export function noise(secret: Uint8Array, seed: Seed, step: string, sd: number): number {
  return sd === 0 ? 0 : sd * standardNormal(secret, seed, step);
}
