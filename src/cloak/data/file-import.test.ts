// Bulk import of CSV and NDJSON: type conversion, nulls, progress, batches, line-exact errors, resuming.
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import type { ImportOptions } from './file-import.ts';
import { openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'visits',
    columns: [
      { name: 'page', type: 'varchar(10)' },
      { name: 'seconds', type: 'integer' },
      { name: 'big', type: 'bigint' },
      { name: 'score', type: 'double' },
      { name: 'ok', type: 'boolean' },
    ],
  });
});
afterEach(() => t.close());

/** Feeds the text in small chunks, so lines and multi-byte characters straddle chunk borders. */
const chunked = (text: string) => {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
  return Readable.from(chunks);
};

const run = (text: string, options: Partial<ImportOptions> = {}) =>
  t.store.importFile('org', chunked(text), {
    format: 'csv',
    table: 'visits',
    userColumn: 'user_id',
    source: 'visits.csv',
    ...options,
  });

const rows = (): Array<Record<string, unknown>> =>
  [...t.store.streamUsers('org', [{ table: 'visits' }])].flatMap((u) =>
    (u.tables.visits ?? []).map((row) => ({ user: u.userId, ...row })),
  );

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the import to fail');
}

describe('CSV import', () => {
  it('converts fields by column type; an empty field is null, quoted or not', async () => {
    const csv = [
      'user_id,page,seconds,big,score,ok',
      'ann,home,3,9007199254740991,1.5e1,true',
      'bob,"a,""b""",-7,12,.5,0',
      'ann,,,,,',
      'cé,"",+4, -3 ,-2,FALSE',
      '',
    ].join('\r\n');
    expect(await run(csv)).toEqual({ rows: 4, users: 3, lines: 5 });
    expect(rows()).toEqual([
      { user: 'ann', page: 'home', seconds: 3, big: 9007199254740991, score: 15, ok: true },
      { user: 'ann', page: null, seconds: null, big: null, score: null, ok: null },
      { user: 'bob', page: 'a,"b"', seconds: -7, big: 12, score: 0.5, ok: false },
      { user: 'cé', page: null, seconds: 4, big: -3, score: -2, ok: false },
    ]);
  });

  it('takes the columns in any order, leaves out missing ones, and uses the named user column', async () => {
    await run('seconds,who\n5,u1\n6,u2\n', { userColumn: 'who' });
    expect(rows().map((r) => [r.user, r.seconds, r.page])).toEqual([
      ['u1', 5, null],
      ['u2', 6, null],
    ]);
  });

  it('reports progress after every batch and stores each batch in one transaction', async () => {
    const lines = ['user_id,seconds', ...Array.from({ length: 10 }, (_, i) => `u${i},${i}`)];
    const progress: Array<{ line: number; rows: number }> = [];
    await run(lines.join('\n'), {
      batchRows: 4,
      onProgress: ({ line, rows: n, bytes }) => {
        expect(bytes).toBeGreaterThan(0);
        progress.push({ line, rows: n });
      },
    });
    expect(progress).toEqual([
      { line: 5, rows: 4 },
      { line: 9, rows: 8 },
      { line: 11, rows: 10 },
    ]);
  });

  it('stops at a bad value naming the line and column; earlier batches stay, its batch is not stored', async () => {
    const lines = ['user_id,seconds,page', ...Array.from({ length: 9 }, (_, i) => `u${i},${i},p`)];
    lines[7] = 'u6,seven,p'; // line 8
    const error = await failure(run(lines.join('\n'), { batchRows: 3 }));
    expect(error.code).toBe('IMPORT_INVALID_LINE');
    expect(error.status).toBe(422);
    expect(error.message).toContain(
      'visits.csv, line 8: column "seconds": expected a whole number',
    );
    expect(error.message).toContain('Nothing from line 8 on was stored (6 rows before it were)');
    expect(error.message).toContain('--from-line 8');
    expect(t.store.rowCount('org', 'visits')).toBe(6);

    // Resuming from the named line after fixing it stores the rest exactly once.
    lines[7] = 'u6,6,p';
    expect(await run(lines.join('\n'), { batchRows: 3, fromLine: 8 })).toMatchObject({ rows: 3 });
    expect(rows().map((r) => r.seconds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each([
    ['user_id,page\nu1,elevenchars', 'line 2: column "page": expected a string of at most 10'],
    ['user_id,ok\nu1,yes', 'line 2: column "ok": expected true, false, 1 or 0'],
    ['user_id,score\nu1,1.2.3', 'line 2: column "score": expected a number'],
    ['user_id,seconds\nu1,3000000000', 'line 2: column "seconds": expected a whole number from'],
    ['user_id,big\nu1,9007199254740993', 'line 2: column "big": expected a whole number from'],
    ['user_id,seconds\n,1', 'line 2: the user column "user_id" is missing or empty'],
    ['user_id,seconds\n"a\tb",1', 'line 2: User id "a\\tb" is not valid'],
    ['page,seconds\nx,1', 'line 1: the header has no user column "user_id"'],
    [
      'user_id,colour\nu1,red',
      'line 1: the header names column "colour", which the table does not have',
    ],
    ['user_id,seconds\nu1,1,2', 'line 2: the CSV cannot be read'],
    ['user_id,page\nu1,"open', 'the CSV cannot be read'],
    [
      'user_id,page\nu1,a\u0000b',
      'line 2: column "page": the string contains the character U+0000',
    ],
  ])('refuses %j: %s', async (csv, message) => {
    const error = await failure(run(csv));
    expect(error.message).toContain(message);
    expect(t.store.rowCount('org', 'visits')).toBe(0);
  });

  it('refuses an unknown table before reading', async () => {
    const error = await failure(run('user_id\nu1', { table: 'nope' }));
    expect(error.code).toBe('UNKNOWN_TABLE');
  });
});

describe('NDJSON import', () => {
  const ndjson = (text: string, options: Partial<ImportOptions> = {}) =>
    run(text, { format: 'ndjson', source: 'visits.ndjson', ...options });

  it('stores one JSON object per line with JSON types, skipping blank lines', async () => {
    const text = [
      '{"user_id":"ann","page":"home","seconds":3,"big":"9007199254740991","ok":true}',
      '',
      '{"user_id":42,"score":-1.25,"page":null}\r',
      '{"user_id":"ünï","page":"😀😀"}',
    ].join('\n');
    expect(await ndjson(text)).toEqual({ rows: 3, users: 3, lines: 4 });
    expect(rows()).toEqual([
      { user: '42', page: null, seconds: null, big: null, score: -1.25, ok: null },
      { user: 'ann', page: 'home', seconds: 3, big: 9007199254740991, score: null, ok: true },
      { user: 'ünï', page: '😀😀', seconds: null, big: null, score: null, ok: null },
    ]);
  });

  it.each([
    ['{"user_id":"a","seconds":"3"}', 'line 1: column "seconds": expected a whole number'],
    [
      '{"user_id":"a"}\n{"user_id":"b","colour":"red"}',
      'line 2: table "visits" has no column "colour"',
    ],
    ['{"user_id":"a"}\n{"user_id":"b"', 'line 2: not valid JSON'],
    ['[1,2]', 'line 1: expected a JSON object'],
    ['{"seconds":1}', 'line 1: the user column "user_id" is missing or empty'],
    ['{"user_id":true}', 'line 1: User id'],
    [
      '{"user_id":"a","page":"x\\u0000"}',
      'line 1: column "page": the string contains the character U+0000',
    ],
    ['{"user_id":"a","page":"x","page":"y"}', 'line 1: column "page" occurs twice'],
    ['{"user_id":"a","seconds":1,"user_id":"b"}', 'line 1: column "user_id" occurs twice'],
  ])('refuses %j: %s', async (text, message) => {
    const error = await failure(ndjson(text));
    expect(error.message).toContain(message);
    expect(t.store.rowCount('org', 'visits')).toBe(0);
  });
});
