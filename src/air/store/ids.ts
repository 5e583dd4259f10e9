// Random identifiers and tokens for air records: unguessable, URL-safe, and never all digits.
import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';
const LETTERS = 'abcdefghijkmnopqrstuvwxyz';

/**
 * A token starts with a letter so that `/api/task_results/<id>` can tell a numeric task id from a
 * token without ambiguity. 12 characters give about 60 bits.
 */
export function randomToken(length = 12): string {
  let out = LETTERS[randomInt(LETTERS.length)]!;
  for (let i = 1; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
