// Made-up test users for "try it": a few rows per selected table, with values fitting each type.
import type { Prefetch, Table, TestUser } from './api.ts';

function sample(type: string, user: number, row: number): string | number | boolean {
  const n = user * 7 + row * 3;
  if (type === 'boolean') return n % 2 === 0;
  if (type === 'float' || type === 'double') return Math.round(n * 13.7) / 10;
  if (type === 'integer' || type === 'bigint') return n % 10;
  return ['alpha', 'beta', 'gamma', 'delta'][n % 4]!;
}

/** Three users: two rows, one row, and none, so the task's empty case is tried too. */
export function generateTestUsers(
  tables: readonly Table[],
  prefetch: readonly Prefetch[],
): TestUser[] {
  const selected = tables.filter((t) => prefetch.some((p) => p.table === t.name));
  return [2, 1, 0].map((rows, user) => ({
    id: `test-user-${user + 1}`,
    tables: Object.fromEntries(
      selected.map((t) => [
        t.name,
        Array.from({ length: rows }, (_, row) =>
          Object.fromEntries(t.columns.map((c) => [c.name, sample(c.type, user + 1, row)])),
        ),
      ]),
    ),
  }));
}
