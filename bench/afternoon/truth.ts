// The truth for the analyst-afternoon benchmark: the same task code as plain JavaScript, exact distinct-user counts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { Cloak } from '../../src/cloak/index.ts';
import type { PrefetchSpec } from '../../src/shared/index.ts';

/** The sandbox's own standard library source, so to_date, Utils and DateTime answer alike. */
const STDLIB = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../src/sandbox/guest/stdlib.js',
);

interface Stdlib {
  to_date: unknown;
  Utils: unknown;
  DateTime: unknown;
}

let stdlib: Stdlib | undefined;
function loadStdlib(): Stdlib {
  // The script's completion value is its factory; harden() is the isolate's freeze, a no-op here.
  stdlib ??= (
    vm.runInNewContext(readFileSync(STDLIB, 'utf8'), { harden: (x: unknown) => x }) as () => Stdlib
  )();
  return stdlib;
}

/** `label \0 value`, the key a bucket is counted under. */
export const bucketKey = (label: string, value: string) => `${label}\u0000${value}`;

export interface Truth {
  /** Exact distinct users per bucket key. */
  counts: Map<string, number>;
  /**
   * Each user's bucket keys by user id (only users with at least one), for the suppression
   * bucket's truth and the pricing simulation.
   */
  memberships: Map<string, string[]> | undefined;
  /** Users whose run threw: the benchmark's tasks should have none. */
  errors: number;
}

/**
 * Runs `code` once per user over the rows the cloak's prefetch selects (the same stream the task
 * runner reads), counting each (label, value) once per user as the cloak does.
 */
export async function trueCounts(
  cloak: Cloak,
  orgId: string,
  prefetch: PrefetchSpec[],
  code: string,
  keepMemberships: boolean,
): Promise<Truth> {
  const { to_date, Utils, DateTime } = loadStdlib();
  const task = new Function(
    'tables',
    'report_property',
    'lookup',
    'to_date',
    'Utils',
    'DateTime',
    code,
  ) as (...args: unknown[]) => void;
  const reader = await cloak.data.lookupReader(orgId);
  const lookup = (table: unknown, key: unknown) => reader(String(table), String(key));
  const counts = new Map<string, number>();
  const memberships = keepMemberships ? new Map<string, string[]>() : undefined;
  let errors = 0;
  for await (const user of cloak.data.streamUsers(orgId, prefetch)) {
    const seen = new Set<string>();
    const report = (label: unknown, value: unknown) => {
      seen.add(bucketKey(String(label), String(value)));
    };
    try {
      task(user.tables, report, lookup, to_date, Utils, DateTime);
    } catch {
      errors++;
      continue;
    }
    for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
    if (memberships && seen.size > 0) memberships.set(user.userId, [...seen]);
  }
  return { counts, memberships, errors };
}
