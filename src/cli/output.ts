// What a command prints on stdout: readable text by default, one JSON document with --json.
import process from 'node:process';

let asJson = false;

/** Set once per command from the global `--json` flag (main.ts). */
export function printJsonOutput(on: boolean): void {
  asJson = on;
}

export function jsonOutput(): boolean {
  return asJson;
}

/** A command's answer: with --json exactly as before (scripts parse it), else as text. */
export function printResult(value: unknown): void {
  process.stdout.write(asJson ? `${JSON.stringify(value, null, 2)}\n` : formatText(value));
}

type Row = Record<string, unknown>;

const isRow = (value: unknown): value is Row =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One value on one line: nested objects and arrays of objects as compact JSON. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value) && value.every((v) => !isRow(v) && !Array.isArray(v))) {
    return value.map(cell).join(', ');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Times are stored as milliseconds since 1970 (`createdAt`, `started_at`): shown as dates. */
function moment(key: string, value: unknown): unknown {
  return /(At|_at)$/.test(key) && typeof value === 'number' ? new Date(value).toISOString() : value;
}

/** Rows under a header line, each column as wide as its widest cell. */
function table(rows: readonly Row[]): string {
  if (rows.length === 0) return '(none)\n';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((c) => cell(moment(c, row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

/**
 * Text for people: an object as "name: value" lines (a nested object or a list of objects
 * indented below its name), a list of objects as a table. `success: true` says nothing here:
 * the exit code says it.
 */
export function formatText(value: unknown, indent = ''): string {
  if (Array.isArray(value) && value.every(isRow)) {
    return table(value).replace(/^(?=.)/gm, indent);
  }
  if (!isRow(value)) return `${indent}${cell(value)}\n`;
  const entries = Object.entries(value).filter(([k, v]) => !(k === 'success' && v === true));
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries
    .map(([key, v]) => {
      const nested = (isRow(v) && Object.keys(v).length > 0) || (Array.isArray(v) && v.some(isRow));
      if (nested) return `${indent}${key}:\n${formatText(v, `${indent}  `)}`;
      return `${indent}${`${key}:`.padEnd(width + 1)} ${cell(moment(key, v))}\n`;
    })
    .join('');
}
