// Which roles may erase uploaded data on the site: dropping a table or a column deletes rows for every user.
import type { Role } from './store/index.ts';

/**
 * Analysts never change data (SPEC, "Keys and authentication"): erasing a table or a column would
 * let them remove what a count depends on. They may still define tables and add columns, which
 * changes no row. Data owners put data in and may take it out; admins may do everything.
 */
export const ROLES_THAT_MAY_ERASE: readonly Role[] = Object.freeze(['data_owner', 'admin']);

export function mayEraseData(role: Role): boolean {
  return ROLES_THAT_MAY_ERASE.includes(role);
}

/** Whether a table change (the site's `{"add": [...], "drop": [...]}`) erases data. */
export function erasesData(change: unknown): boolean {
  if (typeof change !== 'object' || change === null) return false;
  const drop = (change as { drop?: unknown }).drop;
  return Array.isArray(drop) ? drop.length > 0 : drop !== undefined;
}
