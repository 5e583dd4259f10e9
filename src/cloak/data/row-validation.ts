// Validation of uploaded values against their column types, and of user ids.
import { AppError } from '../../errors/index.ts';
import type { ColumnType } from '../../shared/index.ts';
import { describe, display, hasLoneSurrogate } from './names.ts';

/** What is bound to SQLite: booleans become 0/1 and bigint strings become numbers. */
export type SqlValue = string | number | null;

export const MAX_USER_ID_LENGTH = 200;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const DIGITS = /^-?\d{1,16}$/;

/** Thrown by a value check; the caller adds the user, table, row and column. */
export class ValueProblem extends Error {}

export type ValueCheck = (value: unknown) => SqlValue;

/** One check per column type, built once per table and run for every value of that column. */
export function valueCheck(type: ColumnType): ValueCheck {
  switch (type) {
    case 'integer':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX)
          return v;
        throw new ValueProblem(
          `expected a whole number from ${INT32_MIN} to ${INT32_MAX} (integer), got ${describe(v)}.`,
        );
      };
    case 'bigint':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
        // 64-bit ids often travel as strings in JSON; accepted as long as no digit is lost.
        if (typeof v === 'string' && DIGITS.test(v) && Number.isSafeInteger(Number(v)))
          return Number(v);
        throw new ValueProblem(
          `expected a whole number from -${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER} ` +
            `(bigint; a string of decimal digits in that range is accepted too), got ${describe(v)}.`,
        );
      };
    case 'float':
    case 'double':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'number' && Number.isFinite(v)) return v;
        throw new ValueProblem(`expected a finite number (${type}), got ${describe(v)}.`);
      };
    case 'boolean':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'boolean') return v ? 1 : 0;
        throw new ValueProblem(`expected true or false (boolean), got ${describe(v)}.`);
      };
    case 'text':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'string') return checkWellFormed(v);
        throw new ValueProblem(`expected a string (text), got ${describe(v)}.`);
      };
    default:
      return varcharCheck(type);
  }
}

function varcharCheck(type: ColumnType): ValueCheck {
  const max = Number(type.slice(8, -1));
  return (v) => {
    if (v === null) return null;
    if (typeof v !== 'string')
      throw new ValueProblem(`expected a string (${type}), got ${describe(v)}.`);
    // Characters are code points; only a string longer in UTF-16 units than N can exceed N.
    if (v.length > max) {
      const length = codePointLength(v);
      if (length > max) {
        throw new ValueProblem(
          `expected a string of at most ${max} characters (${type}), got ${length} characters.`,
        );
      }
    }
    return checkWellFormed(v);
  };
}

/**
 * Text must be stored as it was sent on both stores: PostgreSQL's text cannot hold NUL at all,
 * and SQLite keeps it but its GLOB (the sql tasks' LIKE) stops reading at it, so sql and
 * JavaScript tasks would see different strings.
 */
function checkWellFormed(v: string): string {
  if (v.includes('\u0000')) {
    throw new ValueProblem(
      'the string contains the character U+0000 (NUL, \\u0000), which text values may not contain: remove it, or encode the value (e.g. as base64).',
    );
  }
  if (hasLoneSurrogate(v)) {
    throw new ValueProblem(
      'the string contains an unpaired UTF-16 surrogate (\\ud800-\\udfff), which cannot be stored.',
    );
  }
  return v;
}

function codePointLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}

/** A user id is a non-empty string of at most 200 characters without control characters. */
export function checkUserId(userId: unknown): string {
  if (typeof userId !== 'string') {
    throw new AppError('INVALID_USER_ID', {
      user: describe(userId),
      problem: 'it must be a string.',
    });
  }
  const fail = (problem: string) =>
    new AppError('INVALID_USER_ID', { user: display(userId), problem });
  if (userId.length === 0) throw fail('it is empty; give every user a non-empty id.');
  if (codePointLength(userId) > MAX_USER_ID_LENGTH) {
    throw fail(`it is longer than ${MAX_USER_ID_LENGTH} characters.`);
  }
  if (hasControlCharacter(userId))
    throw fail('it contains a control character (such as a newline or tab).');
  // Two ids differing only in an unpaired surrogate would be stored as the same UTF-8 text.
  if (hasLoneSurrogate(userId))
    throw fail('it contains an unpaired UTF-16 surrogate (\\ud800-\\udfff).');
  return userId;
}

/** C0 controls, DEL and C1 controls: invisible in logs and UIs, so never part of an identity. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) return true;
  }
  return false;
}
