// Per-user distinct groups from a sql task's rows: shared by the in-thread reader and its worker thread (sql-groups-worker.mjs), so plain JavaScript.

/**
 * A user whose groups' JSON would pass the longest string SQLite hands to JavaScript (about 512
 * MB: tens of millions of distinct values, or huge texts) fails the one-row-per-user query, where
 * rows of one (user, group) each have no such bound. Then the rest comes from those rows, in the
 * same snapshot and order, from the user after the last one given: the run ends as it always did
 * (that user most likely an exception for report_property's limits), not with a store error.
 */
export function* withRowsFallback(perUser, perGroup) {
  const users = perUser()[Symbol.iterator]();
  let last;
  try {
    for (;;) {
      let next;
      try {
        next = users.next();
      } catch (error) {
        if (!tooBig(error)) throw error;
        break;
      }
      if (next.done) return;
      last = next.value.userId;
      yield next.value;
    }
  } finally {
    // A reader that stops early (a cancelled run) must close the statement before its
    // connection: a for-of would, but this loop calls next() itself.
    users.return?.();
  }
  let skipping = last !== undefined;
  for (const user of perGroup()) {
    if (skipping) skipping = user.userId !== last;
    else yield user;
  }
}

function tooBig(error) {
  return (
    (error instanceof Error && error.code === 'SQLITE_TOOBIG') ||
    (error instanceof RangeError && error.message.includes('Invalid string length'))
  );
}

/**
 * Rows of one user each, [user id, JSON array of the user's distinct groups] (CompiledSqlTask's
 * `user` shape): the same users and groups, in the same order, as groupsByUser over the rows of
 * one (user, group) each.
 */
export function* groupsOfUsers(rows, compiled, limits) {
  const grouper = new GroupCollector(compiled, limits);
  for (const [userId, groups] of rows) yield grouper.userFromJson(userId, groups);
}

/** Rows come ordered by user; each user's distinct joined values, in the order first seen. */
export function* groupsByUser(rows, compiled, limits) {
  const grouper = new GroupCollector(compiled, limits);
  for (const row of rows) {
    const done = grouper.push(row);
    if (done) yield done;
  }
  const last = grouper.finish();
  if (last) yield last;
}

/**
 * Distinct JSON texts of users' groups remembered with their outcome. Most users share their
 * groups' text with many others (one city, the same few cities, one filtered count), and parsing,
 * formatting and checking it again was a good part of a sql task's time in JavaScript.
 */
const MAX_REMEMBERED_TEXTS = 4096;

/** The current user's distinct groups; `push` hands back the previous user once a new one starts. */
export class GroupCollector {
  #label;
  #limits;
  #format;
  #formatGroup;
  #tooLong;
  #tooMany;
  #current;
  #values = new Set();
  #error;
  /** The last properties `finish` handed out: frozen, shared by the users with the same groups. */
  #last = Object.freeze([]);
  /** JSON text of a user's groups -> the properties (shared, never changed) or the error. */
  #byText = new Map();

  constructor(compiled, limits) {
    this.#label = compiled.label;
    this.#limits = limits;
    this.#format = valueFormatter(compiled.formats);
    this.#formatGroup = groupFormatter(compiled.formats);
    this.#tooLong = `RangeError: report_property: the value is longer than ${limits.maxTextLength} characters`;
    this.#tooMany = `RangeError: report_property: more than ${limits.maxProperties} distinct properties for one user`;
  }

  push(row) {
    const userId = row[0];
    let done;
    if (userId !== this.#current) {
      done = this.finish();
      this.#current = userId;
    }
    if (this.#error === undefined) this.#add(this.#format(row));
    return done;
  }

  /** One whole user from the JSON array of their groups (each a cell, or an array of cells). */
  userFromJson(userId, text) {
    let known = this.#byText.get(text);
    if (known === undefined) {
      known = this.#outcomeOf(JSON.parse(text));
      if (this.#byText.size >= MAX_REMEMBERED_TEXTS) this.#byText.clear();
      this.#byText.set(text, known);
    }
    return typeof known === 'string'
      ? { userId, ok: false, error: known }
      : { userId, ok: true, properties: known };
  }

  /** The properties of these groups, or the error message when they break the limits. */
  #outcomeOf(groups) {
    for (const group of groups) {
      this.#add(this.#formatGroup(group));
      if (this.#error !== undefined) break;
    }
    // Frozen: every user with this text gets the same array.
    const outcome =
      this.#error ??
      Object.freeze(Array.from(this.#values, (v) => Object.freeze([this.#label, v])));
    this.#values.clear();
    this.#error = undefined;
    return outcome;
  }

  #add(value) {
    if (this.#values.has(value)) return;
    if (value.length > this.#limits.maxTextLength) this.#error = this.#tooLong;
    else if (this.#values.size >= this.#limits.maxProperties) this.#error = this.#tooMany;
    else this.#values.add(value);
  }

  /**
   * The current user's properties: the previous user's own array when the groups are the same
   * (as in a filtered count, where every user has the one group, or users of one city), so that
   * neither this side nor the thread's outcome table builds and compares one per user.
   */
  #properties() {
    const last = this.#last;
    if (last.length === this.#values.size) {
      let i = 0;
      for (const value of this.#values) {
        if (last[i][1] !== value) break;
        i++;
      }
      if (i === last.length) return last;
    }
    this.#last = Object.freeze(Array.from(this.#values, (v) => Object.freeze([this.#label, v])));
    return this.#last;
  }

  finish() {
    const userId = this.#current;
    if (userId === undefined) return undefined;
    const done =
      this.#error !== undefined
        ? { userId, ok: false, error: this.#error }
        : { userId, ok: true, properties: this.#properties() };
    this.#current = undefined;
    // Emptied rather than replaced: the properties were copied out, and one set serves every user.
    this.#values.clear();
    this.#error = undefined;
    return done;
  }
}

/**
 * A cell as String() of the JavaScript value a prefetch gives a task: numbers as JavaScript
 * prints them, booleans (stored as 0 and 1) as true and false, NULL as "null". Several groups
 * are joined by ", ". A row holds the user id first, then the cells.
 */
function valueFormatter(formats) {
  if (formats.length === 0) return () => '';
  const cells = cellsFormatter(formats, 1);
  return formats.length === 1 ? (row) => cell(row[1], formats[0]) : cells;
}

/** The same for one group of a JSON array: its one cell, or the array of its cells. */
function groupFormatter(formats) {
  const cells = cellsFormatter(formats, 0);
  return formats.length === 1 ? (group) => cell(group, formats[0]) : (group) => cells(group);
}

/** Several cells from `first` on, each formatted, joined by ", ". */
function cellsFormatter(formats, first) {
  return (cells) => formats.map((f, i) => cell(cells[first + i], f)).join(', ');
}

function cell(value, format) {
  return format === 'boolean' && value !== null ? String(value === 1) : String(value);
}
