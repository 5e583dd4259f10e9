// Fuzzing /bulk_insert and /insert over the real HTTPS server: thousands of bad requests, each
// answered with a 4xx (never a 5xx) and none changing a table.
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_PASSWORD,
  startTestInstallation,
  type TestInstallation,
} from '../support/installation.ts';

const COLUMNS = [
  { name: 'page', type: 'varchar(10)' },
  { name: 'seconds', type: 'integer' },
  { name: 'big', type: 'bigint' },
  { name: 'score', type: 'double' },
  { name: 'ok', type: 'boolean' },
  { name: 'note', type: 'text' },
] as const;
type ColumnName = (typeof COLUMNS)[number]['name'];

const goodUser = fc
  .string({ minLength: 1, maxLength: 20, unit: 'grapheme' })
  .filter((id) => ![...id].some((c) => c.charCodeAt(0) < 0x20 || (c >= '\x7f' && c <= '\x9f')));

const goodRow = fc.record(
  {
    page: fc.option(fc.string({ maxLength: 10, unit: 'grapheme-ascii' })),
    seconds: fc.option(fc.integer()),
    big: fc.option(fc.maxSafeInteger()),
    score: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
    ok: fc.option(fc.boolean()),
    note: fc.option(fc.string({ unit: 'grapheme' })),
  },
  { requiredKeys: [] },
);

/*
 * Every bad value must stay bad after JSON.stringify, because the server sees the JSON text, not
 * the generated value: a NaN (which fc.double makes unless told not to) is sent as null, which
 * every nullable column accepts. That is how a "bad" body was once answered 200 and stored rows.
 */
const fraction = fc.double({ min: 0.1, max: 0.9, noNaN: true });

/** A value that no column of this type accepts. */
const badValue: Record<ColumnName, fc.Arbitrary<unknown>> = {
  page: fc.oneof(
    fc.string({ minLength: 11, maxLength: 40, unit: 'grapheme-ascii' }),
    fc.integer(),
    fc.boolean(),
    fc.constant('\ud800'),
    fc.array(fc.string(), { maxLength: 2 }),
  ),
  seconds: fc.oneof(
    fc.integer({ min: 2 ** 31, max: 2 ** 40 }),
    fc.integer({ min: -(2 ** 40), max: -(2 ** 31) - 1 }),
    fraction,
    fc.string(),
    fc.boolean(),
    fc.object({ maxDepth: 1 }),
  ),
  big: fc.oneof(
    fc.constant(2 ** 53),
    fc.constant('9007199254740993'),
    fc.string().filter((s) => !/^-?\d{1,16}$/.test(s)),
    fraction,
    fc.boolean(),
  ),
  score: fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 2 }),
  ),
  ok: fc.oneof(fc.integer(), fc.string(), fc.constant([])),
  note: fc.oneof(fc.integer(), fc.boolean(), fc.object({ maxDepth: 1 }), fc.constant('a\udc00b')),
};

const unknownName = (known: string) => fc.string({ maxLength: 30 }).filter((s) => s !== known);
const notAnObject = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
);

type Rows = Array<Record<string, unknown>>;
type Defect = (rows: Rows, at: number) => unknown;

/** One defect in one row or table entry; every one of them must fail the whole request. */
const rowDefect: fc.Arbitrary<Defect> = fc.oneof(
  fc.constantFrom(...COLUMNS.map((c) => c.name)).chain((column) =>
    badValue[column].map(
      (value): Defect =>
        (rows, at) =>
          setRow(rows, at, column, value),
    ),
  ),
  fc
    .tuple(
      unknownName('').filter((s) => !COLUMNS.some((c) => c.name === s)),
      fc.jsonValue(),
    )
    .map(
      ([column, value]): Defect =>
        (rows, at) =>
          setRow(rows, at, column, value),
    ),
  notAnObject.map(
    (value): Defect =>
      (rows, at) =>
        rows.map((r, i) => (i === at ? value : r)),
  ),
  fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object({ maxDepth: 1 })).map(
    (value): Defect =>
      () =>
        value,
  ),
);

function setRow(rows: Rows, at: number, column: string, value: unknown): Rows {
  return rows.map((r, i) => (i === at ? { ...r, [column]: value } : r));
}

/** `{"<table>": rows}` for one user, with a defect at a random place. */
const badTables = fc
  .record({
    rows: fc.array(goodRow, { minLength: 1, maxLength: 6 }),
    at: fc.nat(),
    defect: rowDefect,
    table: fc.option(unknownName('visits'), { freq: 4 }),
  })
  .map(({ rows, at, defect, table }) =>
    table === null ? { visits: defect(rows, at % rows.length) } : { [table]: rows },
  );

const badUserId = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 201, maxLength: 260 }),
  fc
    .tuple(fc.string(), fc.integer({ min: 0, max: 0x1f }), fc.string())
    .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
  fc.constant('user\ud800'),
);

/** A /bulk_insert body with good users around one bad user entry (or a body of the wrong shape). */
const badBulk = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        before: fc.dictionary(
          goodUser,
          fc.record({ visits: fc.array(goodRow, { maxLength: 3 }) }),
          {
            maxKeys: 3,
          },
        ),
        user: goodUser,
        tables: badTables,
      })
      .map(({ before, user, tables }) => ({ ...before, [user]: tables })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ user: badUserId, rows: fc.array(goodRow, { minLength: 1, maxLength: 2 }) })
      .map(({ user, rows }) => ({ [user]: { visits: rows } })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(goodUser, notAnObject).map(([user, value]) => ({ [user]: value })),
  },
  { weight: 1, arbitrary: notAnObject },
);

/*
 * Seeds. Each run takes a fresh seed (or FUZZ_SEED), and FUZZ_SEEDS=N runs every property for N
 * consecutive seeds against one installation, to check that no seed finds a hole:
 * `FUZZ_SEEDS=200 npx vitest run test/api/ingest-fuzz.test.ts`. A failure names its seed.
 */
const FIRST_SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);
const SEEDS = Number(process.env.FUZZ_SEEDS ?? 1);
const seeds = Array.from({ length: SEEDS }, (_, i) => (FIRST_SEED + i) | 0);

describe('fuzzing the upload endpoints over HTTPS', () => {
  let inst: TestInstallation;
  let orgId: string;
  let any: https.Agent;
  let one: https.Agent;

  /** Rows and version of the table: neither may change on a refused request. */
  const state = () => ({
    rows: inst.platform.cloak.data.sync!.rowCount(orgId, 'visits'),
    version: inst.platform.cloak.data.sync!.getTable(orgId, 'visits')?.version,
    tables: inst.platform.cloak.data.sync!.listTables(orgId).length,
  });

  /**
   * Sends one body and checks, in this order, that it was refused with a 4xx and that it changed
   * nothing. The baseline is read before each request, so that a body that was wrongly accepted
   * is reported as itself (with the exact JSON text sent) and does not make every later replay of
   * the shrinker fail on a state it did not cause.
   */
  const sendRefused = async (
    path: '/bulk_insert' | '/insert',
    raw: Buffer,
    { gzip = false, anyStatus = false } = {},
  ) => {
    const before = state();
    const response = await inst.cloak(path, {
      rawBody: gzip ? gzipSync(raw) : raw,
      agent: path === '/insert' ? one : any,
      headers: gzip ? { 'content-encoding': 'gzip' } : {},
    });
    const sent = () => `${path} answered ${response.status} ${response.text} to ${raw.toString()}`;
    if (response.status >= 500 || (!anyStatus && response.status < 400)) throw new Error(sent());
    if (!anyStatus) expect(response.json?.success, sent()).toBe(false);
    expect(state(), sent()).toEqual(before);
  };

  const json = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null');

  /** Runs a property once per seed; the seed is in the failure's report. */
  const assertEverySeed = async <T>(property: fc.IAsyncProperty<T>, numRuns: number) => {
    for (const seed of seeds) await fc.assert(property, { numRuns, seed });
  };

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Fuzz');
    await inst.platform.cloak.data.createTable(orgId, { name: 'visits', columns: [...COLUMNS] });
    const agent = (key: { pfx?: Buffer }) =>
      new https.Agent({ keepAlive: true, pfx: key.pfx, passphrase: KEY_PASSWORD, ca: inst.ca });
    any = agent(await inst.issueKey(orgId, 'upload_any'));
    one = agent(await inst.issueKey(orgId, 'upload_user', 'fuzz-user'));
    // Some rows to protect.
    const seeded = await inst.cloak('/bulk_insert', {
      agent: any,
      body: { seed: { visits: [{ page: 'home', seconds: 1 }] } },
    });
    expect(seeded.status).toBe(200);
  });
  afterAll(async () => {
    any.destroy();
    one.destroy();
    await inst.stop();
  });

  it(`refuses 1,500 generated bad /bulk_insert bodies with a 4xx and changes nothing (seed ${FIRST_SEED})`, async () => {
    await assertEverySeed(
      fc.asyncProperty(badBulk, fc.boolean(), (body, gzip) =>
        sendRefused('/bulk_insert', json(body), { gzip }),
      ),
      1500,
    );
  });

  it(`refuses 800 generated bad /insert bodies with a 4xx and changes nothing (seed ${FIRST_SEED})`, async () => {
    const body = fc.oneof(
      { weight: 5, arbitrary: badTables },
      { weight: 1, arbitrary: notAnObject },
    );
    await assertEverySeed(
      fc.asyncProperty(body, (tables) => sendRefused('/insert', json(tables))),
      800,
    );
  });

  it(`answers 600 arbitrary byte strings, plain or labelled gzip, without a 5xx or a change (seed ${FIRST_SEED})`, async () => {
    const bytes = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(`${JSON.stringify(v)}}`)),
    );
    await assertEverySeed(
      fc.asyncProperty(
        bytes,
        fc.constantFrom('/bulk_insert' as const, '/insert' as const),
        fc.boolean(),
        (raw, path, gzip) => sendRefused(path, raw, { gzip, anyStatus: true }),
      ),
      600,
    );
  });
});
