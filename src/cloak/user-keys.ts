// Many users' 32-byte keys in one growing buffer, for bookkeeping that lasts a whole run.
import { USER_KEY_BYTES, type UserKey } from '../anonymizer/index.ts';

/**
 * A million keys take 32 MB here, against several times that as a million separate Uint8Arrays
 * (the participation budget's members and the suppression bucket's memberships both hold one
 * key per user until the run is anonymized).
 */
export class UserKeys {
  #bytes = Buffer.alloc(USER_KEY_BYTES * 1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(key: UserKey): void {
    if ((this.#length + 1) * USER_KEY_BYTES > this.#bytes.length) {
      const bigger = Buffer.alloc(this.#bytes.length * 2);
      this.#bytes.copy(bigger);
      this.#bytes = bigger;
    }
    this.#bytes.set(key, this.#length * USER_KEY_BYTES);
    this.#length++;
  }

  /** A view on key m (valid until the next push). */
  at(m: number): UserKey {
    return new Uint8Array(
      this.#bytes.buffer,
      this.#bytes.byteOffset + m * USER_KEY_BYTES,
      USER_KEY_BYTES,
    );
  }

  /** XORs key m into `target` (a fingerprint of USER_KEY_BYTES bytes). */
  xorInto(target: Uint8Array, m: number): void {
    const from = m * USER_KEY_BYTES;
    for (let i = 0; i < USER_KEY_BYTES; i++) target[i]! ^= this.#bytes[from + i]!;
  }
}
