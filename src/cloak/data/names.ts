// Naming rules for user tables, columns and lookup tables, and safe quoting of SQL identifiers.
import { AppError } from '../../errors/index.ts';

export const MAX_NAME_LENGTH = 63;
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

export type NameKind = 'table' | 'column' | 'lookup table';

/** True for a name a data owner may give a table, column or lookup table. */
export function isValidName(name: string): boolean {
  return (
    name.length <= MAX_NAME_LENGTH &&
    NAME_PATTERN.test(name) &&
    // ac_ is where the store keeps its own bookkeeping columns (ac_user_id, ac_seq, ac_arrival).
    !name.toLowerCase().startsWith('ac_')
  );
}

/** Throws INVALID_NAME (or INVALID_BODY for a non-string) unless `name` is a valid name. */
export function checkName(name: unknown, kind: NameKind): string {
  if (typeof name !== 'string') {
    throw new AppError('INVALID_BODY', {
      detail: `the ${kind} name must be a string, got ${describe(name)}.`,
    });
  }
  if (!isValidName(name)) throw new AppError('INVALID_NAME', { name: display(name), what: kind });
  return name;
}

/**
 * Identifiers spliced into SQL only ever come from the catalogue (validated names or internal ids);
 * quoting them as well means even a catalogue bug cannot turn a name into SQL.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A short, printable rendering of untrusted text for an error message. */
export function display(text: string, max = 80): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** How a value of the wrong kind is named in an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string "${display(value, 40)}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Lists names for an error message, capped so a huge catalogue does not make a huge message. */
export function listNames(names: readonly string[], max = 20): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, and ${names.length - max} more` : shown;
}

/** Unpaired UTF-16 surrogates cannot be stored as UTF-8; SQLite would silently replace them. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
