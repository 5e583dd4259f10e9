// HMAC-SHA256 (RFC 2104, FIPS 180-4) under one fixed key, for many short messages: the key's blocks hashed once.
import { createHash } from 'node:crypto';

/*
 * Why not node:crypto's createHmac per message: for the short messages of user keys (one or two
 * SHA-256 blocks) its cost is the object it builds per call, not the hashing, about three times
 * the whole computation here. The key's inner and outer blocks are compressed once; a message then
 * costs the compression of its own blocks and one block of the outer hash. The output is HMAC-
 * SHA256 bit for bit (user-key.test.ts holds it to createHmac).
 */

const BLOCK = 64;
const DIGEST = 32;

/** SHA-256's round constants. */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256's initial hash value. */
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** HMAC-SHA256 with one key; `digestText` hashes a text's UTF-8 bytes, as Hmac.update(text, 'utf8'). */
export class HmacSha256 {
  readonly #inner = new Int32Array(8);
  readonly #outer = new Int32Array(8);
  readonly #state = new Int32Array(8);
  readonly #schedule = new Int32Array(64);
  readonly #encoder = new TextEncoder();
  #buffer = new Uint8Array(4 * BLOCK);

  constructor(key: Uint8Array) {
    const block = new Uint8Array(BLOCK);
    block.set(key.length > BLOCK ? createHash('sha256').update(key).digest() : key);
    const padded = new Uint8Array(BLOCK);
    for (const [state, pad] of [
      [this.#inner, 0x36],
      [this.#outer, 0x5c],
    ] as const) {
      for (let i = 0; i < BLOCK; i++) padded[i] = block[i]! ^ pad;
      state.set(IV);
      this.#compress(state, padded, 0);
    }
  }

  /** HMAC-SHA256(key, UTF-8 of `text`), into a fresh 32-byte array. */
  digestText(text: string): Uint8Array {
    // At most three bytes per UTF-16 unit, and the padding: 0x80, zeros, the 8-byte length.
    const most = text.length * 3 + 9;
    if (most > this.#buffer.length) this.#buffer = new Uint8Array(Math.ceil(most / BLOCK) * BLOCK);
    const buffer = this.#buffer;
    const length = encodeUtf8(text, buffer, this.#encoder);
    const state = this.#state;
    state.set(this.#inner);
    // The message follows the key's block, so its length in bits counts that block too.
    const end = pad(buffer, length, BLOCK + length);
    for (let offset = 0; offset < end; offset += BLOCK) this.#compress(state, buffer, offset);
    writeWords(state, buffer, 0);
    pad(buffer, DIGEST, BLOCK + DIGEST);
    state.set(this.#outer);
    this.#compress(state, buffer, 0);
    const digest = new Uint8Array(DIGEST);
    writeWords(state, digest, 0);
    return digest;
  }

  /** One SHA-256 compression of the block at `offset` into `state`. */
  #compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
    const w = this.#schedule;
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = state[0]!;
    let b = state[1]!;
    let c = state[2]!;
    let d = state[3]!;
    let e = state[4]!;
    let f = state[5]!;
    let g = state[6]!;
    let h = state[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    state[0] = (state[0]! + a) | 0;
    state[1] = (state[1]! + b) | 0;
    state[2] = (state[2]! + c) | 0;
    state[3] = (state[3]! + d) | 0;
    state[4] = (state[4]! + e) | 0;
    state[5] = (state[5]! + f) | 0;
    state[6] = (state[6]! + g) | 0;
    state[7] = (state[7]! + h) | 0;
  }
}

/** Writes `text` as UTF-8; ASCII byte by byte, which for short texts beats a call into the encoder. */
function encodeUtf8(
  text: string,
  out: Uint8Array,
  encoder: InstanceType<typeof TextEncoder>,
): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return encoder.encodeInto(text, out).written;
    out[i] = code;
  }
  return text.length;
}

/**
 * SHA-256's padding after `length` bytes of `buffer`, for a message of `total` bytes in all
 * (blocks already hashed included); returns where the padded blocks end.
 */
function pad(buffer: Uint8Array, length: number, total: number): number {
  const end = Math.ceil((length + 9) / BLOCK) * BLOCK;
  buffer[length] = 0x80;
  buffer.fill(0, length + 1, end - 8);
  const bits = total * 8;
  const high = Math.floor(bits / 2 ** 32);
  writeWord(buffer, end - 8, high);
  writeWord(buffer, end - 4, bits >>> 0);
  return end;
}

function writeWords(state: Int32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 8; i++) writeWord(out, offset + i * 4, state[i]!);
}

function writeWord(out: Uint8Array, offset: number, word: number): void {
  out[offset] = word >>> 24;
  out[offset + 1] = word >>> 16;
  out[offset + 2] = word >>> 8;
  out[offset + 3] = word;
}
