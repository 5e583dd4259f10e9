// CSV export of a task's results: one line per bucket or exception of every result, newest first.
import type { StoredResult } from './store/index.ts';

const HEADER = 'result_id,published_at,kind,label,value,count';

/**
 * RFC 4180 quoting, plus a leading apostrophe for text a spreadsheet would run as a formula
 * (=, +, -, @, tab, carriage return): labels and values are whatever a task reported.
 */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Results come a page at a time from the store, so the export reads as the client downloads. */
export async function* resultsCsv(
  results: AsyncIterable<StoredResult> | Iterable<StoredResult>,
): AsyncGenerator<string> {
  yield `${HEADER}\r\n`;
  for await (const result of results) {
    const at = new Date(result.publishedAt).toISOString();
    for (const b of result.buckets) {
      yield `${[result.id, at, 'bucket', csvField(b.label), csvField(b.value), b.count].join(',')}\r\n`;
    }
    for (const e of result.exceptions) {
      yield `${[result.id, at, 'exception', csvField(e.error), '', e.count].join(',')}\r\n`;
    }
  }
}
