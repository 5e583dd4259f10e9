// Types of group-collector.mjs, which the sql groups' worker thread (plain JavaScript) shares with the store.

/** Groups as a task's reported properties, or the error a task would have raised. */
export type SqlGroupsOutcome =
  // Users with the same groups may share one (frozen) array: never change it.
  { ok: true; properties: Array<[label: string, value: string]> } | { ok: false; error: string };

/** One user's groups. */
export type SqlUserGroups = SqlGroupsOutcome & { userId: string };

/**
 * The sandbox's limits on one user's properties. A user whose groups break them is an exception
 * with report_property's own message (driver.js), exactly as that user's JavaScript run would be.
 */
export interface GroupLimits {
  maxProperties: number;
  maxTextLength: number;
}

/** How a group's cells become bucket values, as String() of the task's value would. */
export type GroupFormat = 'plain' | 'boolean';

/** What the collector needs of a compiled sql task. */
export interface GroupShape {
  label: string;
  formats: readonly GroupFormat[];
}

export declare function withRowsFallback(
  perUser: () => Iterable<SqlUserGroups>,
  perGroup: () => Iterable<SqlUserGroups>,
): Generator<SqlUserGroups, void, undefined>;

export declare function groupsOfUsers(
  rows: Iterable<[userId: string, groups: string]>,
  compiled: GroupShape,
  limits: GroupLimits,
): Generator<SqlUserGroups, void, undefined>;

export declare function groupsByUser(
  rows: Iterable<unknown[]>,
  compiled: GroupShape,
  limits: GroupLimits,
): Generator<SqlUserGroups, void, undefined>;

export declare class GroupCollector {
  constructor(compiled: GroupShape, limits: GroupLimits);
  /** A row [user id, cells...]; hands back the previous user once a new one starts. */
  push(row: unknown[]): SqlUserGroups | undefined;
  /** One whole user from the JSON array of their groups. */
  userFromJson(userId: string, text: string): SqlUserGroups;
  /** The current user, if any; the collector is then empty. */
  finish(): SqlUserGroups | undefined;
}
