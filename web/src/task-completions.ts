// Autocompletion for task code: the task API's globals and the selected tables' columns.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import type { Table } from './api.ts';

/** What every task sees (src/sandbox/README.md). */
export const TASK_API: readonly Completion[] = [
  {
    label: 'report_property',
    type: 'function',
    detail: '(label, value)',
    info: 'Counts (label, value) once for this user.',
  },
  {
    label: 'tables',
    type: 'variable',
    detail: 'rows per table',
    info: "This user's prefetched rows, per table name.",
  },
  {
    label: 'lookup',
    type: 'function',
    detail: '(table, key)',
    info: 'A lookup-table value as a string, or undefined.',
  },
  {
    label: 'to_date',
    type: 'function',
    detail: '(seconds)',
    info: '{year, month, day, hour, min, sec, wday, yday} in UTC.',
  },
  {
    label: 'accumulator',
    type: 'variable',
    info: "Streaming tasks: this user's state from the previous run.",
  },
  {
    label: 'Utils.quantize',
    type: 'function',
    detail: '(n, q)',
    info: 'n rounded down to a multiple of q.',
  },
  {
    label: 'Utils.length',
    type: 'function',
    detail: '(x)',
    info: 'Items, characters or own keys.',
  },
  { label: 'Utils.sorted_keys', type: 'function', detail: '(obj, order?)' },
  { label: 'Utils.sorted_pairs', type: 'function', detail: '(obj, order?)' },
  { label: 'Utils.same_arrays', type: 'function', detail: '(a, b)' },
  { label: 'DateTime.date', type: 'function', detail: '(t)', info: '"YYYYMMDD" (UTC).' },
  { label: 'DateTime.day', type: 'function', detail: '(t)', info: 'English weekday.' },
  { label: 'DateTime.week', type: 'function', detail: '(t)', info: 'ISO 8601 week number.' },
  { label: 'DateTime.hour_range', type: 'function', detail: '(t)', info: '"13:00 - 14:00".' },
];

/**
 * Completions at the cursor: after `tables.` the selected tables, after `tables.<name>[i].` (or
 * `row.` when the line iterates tables.<name>) that table's columns, otherwise the task API.
 */
export function taskCompletions(tables: readonly Table[]) {
  return (context: CompletionContext): CompletionResult | null => {
    const tableDot = context.matchBefore(/tables\.\w*/);
    if (tableDot) {
      return {
        from: tableDot.from + 'tables.'.length,
        options: tables.map((t) => ({
          label: t.name,
          type: 'property',
          detail: `${t.columns.length} columns`,
        })),
      };
    }
    const columnDot = context.matchBefore(/tables\.(\w+)(\[[^\]]*\])\.\w*/);
    const line = context.state.doc.lineAt(context.pos).text;
    const before = context.state.sliceDoc(0, context.pos);
    const member = context.matchBefore(/\b(\w+)\.\w*/);
    let table: Table | undefined;
    let from = 0;
    if (columnDot) {
      const name = /tables\.(\w+)/.exec(columnDot.text)![1];
      table = tables.find((t) => t.name === name);
      from = columnDot.from + columnDot.text.lastIndexOf('.') + 1;
    } else if (member) {
      // `for (const row of tables.visits)` (anywhere above) makes `row.` complete visits' columns.
      const variable = member.text.slice(0, member.text.indexOf('.'));
      const loop =
        new RegExp(`\\b${variable}\\s+of\\s+tables\\.(\\w+)`).exec(before) ??
        new RegExp(`\\b${variable}\\s+of\\s+tables\\.(\\w+)`).exec(line);
      table = loop ? tables.find((t) => t.name === loop[1]) : undefined;
      from = member.from + variable.length + 1;
    }
    if (table) {
      return {
        from,
        options: table.columns.map((c) => ({ label: c.name, type: 'property', detail: c.type })),
      };
    }
    const word = context.matchBefore(/[\w.]+/);
    if (!word && !context.explicit) return null;
    return { from: word?.from ?? context.pos, options: [...TASK_API] };
  };
}
