// CSV records: plain lines split fast, quoted fields read by csv-parse, line numbers exact either way.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvRecords, CsvProblem } from './csv-records.ts';

/** In chunks of 5 bytes, so lines, quotes and multi-byte characters straddle chunk borders. */
async function records(text: string) {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 5) chunks.push(bytes.subarray(i, i + 5));
  const out: Array<[number, string[]]> = [];
  for await (const list of csvRecords(Readable.from(chunks))) {
    for (const r of list) out.push([r.line, r.fields]);
  }
  return out;
}

describe('csvRecords', () => {
  it('splits plain lines, drops a byte order mark, CR before LF and empty lines', async () => {
    expect(await records('\uFEFFa,b\r\nx,é\r\n\r\n,\nlast,1')).toEqual([
      [1, ['a', 'b']],
      [2, ['x', 'é']],
      [4, ['', '']],
      [5, ['last', '1']],
    ]);
  });

  it('reads quoted fields as csv-parse does, also across lines, and counts the lines they take', async () => {
    expect(await records('a,b\n"x, ""y""",2\n"one\ntwo\nthree",3\nz,4\n')).toEqual([
      [1, ['a', 'b']],
      [2, ['x, "y"', '2']],
      [3, ['one\ntwo\nthree', '3']],
      [6, ['z', '4']],
    ]);
  });

  it('names the line of a quote left open and of a record csv-parse refuses', async () => {
    await expect(records('a,b\n"open,1\nmore')).rejects.toEqual(
      new CsvProblem(2, 'a quoted field opened on line 2 is not closed'),
    );
    const refused = await records('a\nx"y"z,1').catch((error: CsvProblem) => error);
    expect(refused).toBeInstanceOf(CsvProblem);
    expect((refused as CsvProblem).line).toBe(2);
  });

  it('counts the bytes up to each record for progress, within one chunk too', async () => {
    const bytesAt = async (text: string) => {
      const seen: number[] = [];
      for await (const list of csvRecords(Readable.from([Buffer.from(text)]))) {
        seen.push(...list.map((r) => r.bytes));
      }
      return seen;
    };
    // Exact for ASCII, a byte order mark's 3 bytes included.
    expect(await bytesAt('\uFEFFa,b\r\nx,y\nlast')).toEqual([3 + 5, 3 + 5 + 4, 3 + 5 + 4 + 4]);
    // With multi-byte characters: never back, never past what was read, all of it at the end.
    const text = 'a,b\né,ü\nx,y\n€,1\n';
    const seen = await bytesAt(text);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(Buffer.byteLength(text));
  });

  it('gives the records before a bad one in the same chunk before the error', async () => {
    const seen: string[] = [];
    const reading = (async () => {
      for await (const list of csvRecords(Readable.from([Buffer.from('a\nb\nx"y"z,1\nc\n')]))) {
        seen.push(...list.map((r) => r.fields[0]!));
      }
    })();
    await expect(reading).rejects.toBeInstanceOf(CsvProblem);
    expect(seen).toEqual(['a', 'b']);
  });
});
