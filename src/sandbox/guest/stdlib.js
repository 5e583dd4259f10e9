// Inside the isolate: the task's small standard library (to_date, Utils, DateTime), hardened because every user's run shares it.
// A script, not a module: its completion value is the factory the isolate runner calls once after lockdown().
/* global harden */

// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the completion value is the point
(function makeTaskStdlib() {
  'use strict';

  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const DAY_MS = 86_400_000;

  // Messages name the type, never the value: exception messages are counted across users and a
  // value would split one problem into a bucket per user.
  const kind = (x) => {
    if (x === null || x === undefined) return String(x);
    if (Array.isArray(x)) return 'an array';
    return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
  };

  /** Seconds since 1970-01-01 UTC (a number or numeric string) to a Date; fractions round down. */
  function dateOf(seconds, fn) {
    const n = typeof seconds === 'string' && seconds.trim() !== '' ? Number(seconds) : seconds;
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw new TypeError(`${fn}: expected seconds since 1970-01-01 UTC, got ${kind(seconds)}`);
    }
    const date = new Date(Math.floor(n) * 1000);
    if (Number.isNaN(date.getTime())) throw new RangeError(`${fn}: the time is out of range`);
    return date;
  }

  const pad = (n, width = 2) => String(n).padStart(width, '0');

  function to_date(seconds) {
    const d = dateOf(seconds, 'to_date');
    const year = d.getUTCFullYear();
    return {
      year,
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      min: d.getUTCMinutes(),
      sec: d.getUTCSeconds(),
      wday: d.getUTCDay() + 1,
      yday:
        Math.floor(
          (Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / DAY_MS,
        ) + 1,
    };
  }

  /** ISO 8601: weeks start on Monday; week 1 is the one holding the year's first Thursday. */
  function isoWeek(d) {
    const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    const thursday = midnight + (3 - ((d.getUTCDay() + 6) % 7)) * DAY_MS;
    const weekYear = new Date(thursday).getUTCFullYear();
    return Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS)) + 1;
  }

  const DateTime = {
    date: (t) => {
      const d = dateOf(t, 'DateTime.date');
      return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
    },
    day: (t) => WEEKDAYS[dateOf(t, 'DateTime.day').getUTCDay()],
    week: (t) => isoWeek(dateOf(t, 'DateTime.week')),
    hour_range: (t) => {
      const hour = dateOf(t, 'DateTime.hour_range').getUTCHours();
      return `${pad(hour)}:00 - ${pad((hour + 1) % 24)}:00`;
    },
  };

  function objectArgument(x, fn) {
    if (x === null || typeof x !== 'object') {
      throw new TypeError(`${fn}: expected an object or array, got ${kind(x)}`);
    }
    return x;
  }

  function sortOrder(order, fn) {
    if (order === undefined || order === 'asc') return false;
    if (order === 'desc') return true;
    throw new RangeError(`${fn}: the order must be 'asc' or 'desc'`);
  }

  /** Own enumerable keys as strings, compared by UTF-16 code units like Array.prototype.sort. */
  function sortedKeys(obj, order, fn) {
    const descending = sortOrder(order, fn);
    const keys = Object.keys(objectArgument(obj, fn)).sort();
    return descending ? keys.reverse() : keys;
  }

  const Utils = {
    quantize: (n, q) => {
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        throw new TypeError(`Utils.quantize: expected a finite number, got ${kind(n)}`);
      }
      if (typeof q !== 'number' || !Number.isFinite(q) || q <= 0) {
        throw new RangeError('Utils.quantize: the step must be a positive finite number');
      }
      return Math.floor(n / q) * q;
    },
    length: (x) => {
      if (Array.isArray(x) || typeof x === 'string') return x.length;
      return Object.keys(objectArgument(x, 'Utils.length')).length;
    },
    sorted_keys: (obj, order) => sortedKeys(obj, order, 'Utils.sorted_keys'),
    sorted_pairs: (obj, order) =>
      sortedKeys(obj, order, 'Utils.sorted_pairs').map((key) => [key, obj[key]]),
    same_arrays: (a, b) =>
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => item === b[i]),
  };

  return harden({ to_date, Utils, DateTime });
});
