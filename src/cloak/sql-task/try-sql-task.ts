// "Try it" for sql tasks: the query runs on the analyst's made-up users in a scratch database.
import Database from 'better-sqlite3';
import { MAX_PROPERTY_TEXT_LENGTH, type SandboxLimits } from '../../sandbox/index.ts';
import { sqliteSqlDb } from '../../store/index.ts';
import { SqliteDataStore, type CloakDataStore, type SqliteDataCore } from '../data/index.ts';
import { parseSqlTask } from './parse-sql-task.ts';
import type { TestUserInput, TestUserResult } from '../test-users.ts';
import { expressionsIn } from './sql-ast.ts';
import type { SqlTaskQuery } from './sql-task-model.ts';

/** The scratch database's only organisation. */
const SCRATCH_ORG = 'try-it';

/**
 * The query is checked against the organisation's real table definitions first, then compiled
 * and run, exactly as a real run would, in an in-memory database holding only the test users'
 * rows: the same tables (definitions copied), and the lookup tables it names, empty, since lookup
 * tables are real data ("try it" reads no real data, as for JavaScript tasks). Test rows are
 * validated like an upload, with errors naming the user, table, row and column.
 */
export async function trySqlTask(
  data: CloakDataStore,
  orgId: string,
  code: string,
  users: readonly TestUserInput[],
  limits: SandboxLimits,
): Promise<TestUserResult[]> {
  const query = parseSqlTask(code);
  const { tables } = await data.compileSqlTask(orgId, query);
  const scratchDb = sqliteSqlDb(new Database(':memory:'));
  try {
    const scratch = (await SqliteDataStore.open(scratchDb)).sync;
    for (const name of tables) {
      const { columns } = (await data.getTable(orgId, name))!;
      scratch.createTable(SCRATCH_ORG, { name, columns });
    }
    return runScratch(scratch, query, tables, users, limits);
  } finally {
    await scratchDb.close();
  }
}

function runScratch(
  scratch: SqliteDataCore,
  query: SqlTaskQuery,
  tables: readonly string[],
  users: readonly TestUserInput[],
  limits: SandboxLimits,
): TestUserResult[] {
  for (const name of lookupTables(query)) scratch.setLookupTable(SCRATCH_ORG, name, []);
  const payload: Record<string, Record<string, unknown[]>> = {};
  for (const user of users) {
    const rows = Object.fromEntries(
      tables.map((table) => [table, user.tables[table] ?? []]).filter(([, r]) => r!.length > 0),
    );
    if (Object.keys(rows).length > 0) payload[user.id] = rows;
  }
  if (Object.keys(payload).length > 0) scratch.insert(SCRATCH_ORG, payload);
  const groups = new Map<string, TestUserResult>();
  const groupLimits = {
    maxProperties: limits.maxPropertiesPerUser,
    maxTextLength: MAX_PROPERTY_TEXT_LENGTH,
  };
  for (const user of scratch.streamSqlGroups(SCRATCH_ORG, query, groupLimits)) {
    groups.set(
      user.userId,
      user.ok
        ? { id: user.userId, ok: true, properties: user.properties }
        : { id: user.userId, ok: false, error: user.error },
    );
  }
  return users.map((user) => groups.get(user.id) ?? { id: user.id, ok: true, properties: [] });
}

/** The lookup tables a query names. */
function lookupTables(query: SqlTaskQuery): Set<string> {
  const names = new Set<string>();
  const parts = [...query.groups.map((g) => g.expr), ...(query.where ? [query.where] : [])];
  for (const part of parts) {
    for (const expr of expressionsIn(part)) if (expr.kind === 'lookup') names.add(expr.table);
  }
  return names;
}
