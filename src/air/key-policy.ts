// Which key types a person's role lets them create: the one place this policy is written down.
import { KEY_TYPES, type KeyType } from '../shared/index.ts';
import type { Role } from './store/index.ts';

/**
 * Analysts read results and run tasks but never change data: a key that uploads rows, defines
 * tables or erases a user would let them plant accomplice users or make a real user's rows say
 * what an attack needs. Data owners only put data in. Admins may create every type.
 */
export const KEY_TYPES_BY_ROLE: Readonly<Record<Role, readonly KeyType[]>> = Object.freeze({
  analyst: Object.freeze(['web_api', 'task_runner'] as const),
  data_owner: Object.freeze(['upload_any', 'upload_user'] as const),
  admin: KEY_TYPES,
});

export function keyTypesFor(role: Role): readonly KeyType[] {
  return KEY_TYPES_BY_ROLE[role];
}

export function mayCreateKey(role: Role, type: KeyType): boolean {
  return KEY_TYPES_BY_ROLE[role].includes(type);
}

/** The roles that may create a type, for messages that tell people whom to ask. */
export function rolesThatMayCreate(type: KeyType): Role[] {
  return (Object.keys(KEY_TYPES_BY_ROLE) as Role[]).filter((role) => mayCreateKey(role, type));
}
