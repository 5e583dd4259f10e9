// CSV records with their line numbers, fast for plain lines; quoted fields go to csv-parse.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';

/*
 * Why not csv-parse alone. With `info: true` (line numbers for errors, bytes for progress) it
 * spent about 5 s of CPU on a 1,000,000-row file, half of `opencloak import`'s time, which then
 * reached 0.12 of a plain better-sqlite3 insert loop. Most lines of a data file hold no quote,
 * and such a line is, by RFC 4180, its fields joined by commas: it is split here. A line with a
 * quote (a field with a comma, a quote or a line break in it) is collected up to the line that
 * closes its last quote, and that record is read by csv-parse, so quoting follows the library.
 */

export interface CsvRecord {
  fields: string[];
  /** The record's first line in the file, from 1. */
  line: number;
  /** Bytes of the file read up to this record (for progress). */
  bytes: number;
}

/** A record csv-parse refused, or a quote left open at the end of the file. */
export class CsvProblem extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = '"';

function quotesClosed(text: string): boolean {
  let count = 0;
  for (let i = text.indexOf(QUOTE); i >= 0; i = text.indexOf(QUOTE, i + 1)) count++;
  return count % 2 === 0;
}

function parseQuoted(text: string, line: number): string[] {
  let records: string[][];
  try {
    records = parse(text) as string[][];
  } catch (error) {
    throw new CsvProblem(line, (error as Error).message);
  }
  if (records.length !== 1) throw new CsvProblem(line, 'expected one record');
  return records[0]!;
}

/**
 * Runs `fill` on a new list and yields the list, also when `fill` throws (then the items before
 * the bad one are yielded first and the error follows), so that a reader stores everything up to
 * the bad line, as it would reading item by item.
 */
export async function* listUpToError<T>(fill: (out: T[]) => void): AsyncGenerator<T[]> {
  const out: T[] = [];
  try {
    fill(out);
  } catch (error) {
    if (out.length > 0) yield out;
    throw error;
  }
  if (out.length > 0) yield out;
}

/**
 * Records of a CSV stream, a list per chunk read (one await per chunk, not per record: that was
 * a tenth of an import's time); empty lines are skipped, a byte order mark and CR before LF
 * dropped. A bad record ends the stream with a CsvProblem after the records before it.
 */
export async function* csvRecords(input: Readable): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  /**
   * Progress in bytes, per line (so that it moves with the rows also in a one-chunk file) but
   * without measuring each line's UTF-8 length (a twentieth of an import's time): characters
   * consumed, plus what the chunks received so far hold in bytes beyond their characters, capped
   * at the bytes received. Exact for ASCII, and at the end of the file.
   */
  let received = 0;
  let extraBytes = 0;
  let consumed = 0;
  let bytes = 0;
  let first = true;
  /** A record with an open quote so far, and the line it started on. */
  let open: { text: string; line: number } | undefined;

  /** Appends the records of `text`'s whole lines (all of it at the end) to `out`. */
  function read(text: string, end: boolean, out: CsvRecord[]): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0 && !end) break;
      let raw = newline < 0 ? text.slice(start) : text.slice(start, newline);
      start = newline + 1;
      line++;
      consumed += raw.length + (newline < 0 ? 0 : 1);
      bytes = Math.min(received, consumed + extraBytes);
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (open) {
        open.text += `\n${raw}`;
        if (quotesClosed(open.text)) {
          out.push({ fields: parseQuoted(open.text, open.line), line: open.line, bytes });
          open = undefined;
        }
      } else if (raw.includes(QUOTE)) {
        if (quotesClosed(raw)) out.push({ fields: parseQuoted(raw, line), line, bytes });
        else open = { text: raw, line };
      } else if (raw !== '') {
        out.push({ fields: raw.split(','), line, bytes });
      }
      if (newline < 0) break;
    }
    rest = end ? '' : text.slice(start);
  }

  for await (const chunk of input) {
    const decoded = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    received += Buffer.byteLength(chunk as Buffer | string);
    extraBytes = received - (consumed + rest.length + decoded.length);
    let text = rest + decoded;
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
        consumed += 1;
      }
      first = false;
    }
    yield* listUpToError<CsvRecord>((out) => read(text, false, out));
  }
  const last = rest + decoder.end();
  if (last !== '') yield* listUpToError<CsvRecord>((out) => read(last, true, out));
  if (open) {
    throw new CsvProblem(open.line, `a quoted field opened on line ${open.line} is not closed`);
  }
}
