// The prefetch as a form (tables, filters, row and time limits) or as JSON; both edit one value.
import { useEffect, useId, useState } from 'react';
import type { Prefetch, Table } from '../api.ts';

const OPERATORS = [
  ['$eq', '='],
  ['$neq', '≠'],
  ['$gt', '>'],
  ['$gte', '≥'],
  ['$lt', '<'],
  ['$lte', '≤'],
] as const;

/** The per-table limits: prefetch key, label, and what an empty field means. */
const LIMITS = [
  ['user_rows', 'Last rows per user', 'all'],
  ['time_limit', 'Rows from the last (seconds)', 'any time'],
] as const;

interface Filter {
  column: string;
  op: string;
  value: string;
}

/** Filters the form can show: `{"$$col": {"$op": value}}` terms; anything else needs JSON. */
export function filtersOf(where: Prefetch['where']): Filter[] | null {
  const filters: Filter[] = [];
  for (const term of where ?? []) {
    const keys = Object.keys(term);
    if (keys.length !== 1 || !keys[0]!.startsWith('$$')) return null;
    const ops = term[keys[0]!] as Record<string, unknown>;
    for (const [op, value] of Object.entries(ops)) {
      filters.push({ column: keys[0]!.slice(2), op, value: JSON.stringify(value) });
    }
  }
  return filters;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function whereOf(filters: Filter[]): Prefetch['where'] {
  return filters
    .filter((f) => f.column !== '')
    .map((f) => ({ [`$$${f.column}`]: { [f.op]: parseValue(f.value) } }));
}

export interface PrefetchFormProps {
  tables: readonly Table[];
  value: Prefetch[];
  onChange(value: Prefetch[]): void;
}

export function PrefetchForm({ tables, value, onChange }: PrefetchFormProps) {
  const id = useId();
  const formable = value.every((p) => filtersOf(p.where) !== null);
  const [asJson, setAsJson] = useState(!formable);
  const [json, setJson] = useState(() => JSON.stringify(value, null, 2));
  const [jsonError, setJsonError] = useState('');

  useEffect(() => {
    if (!asJson) setJson(JSON.stringify(value, null, 2));
  }, [value, asJson]);

  const selection = (name: string) => value.find((p) => p.table === name);
  const update = (name: string, change: Partial<Prefetch> | null) => {
    const others = value.filter((p) => p.table !== name);
    if (change === null) return onChange(others);
    const current = selection(name) ?? { table: name };
    const next = { ...current, ...change };
    for (const key of ['user_rows', 'time_limit'] as const) {
      if (next[key] === undefined || Number.isNaN(next[key])) delete next[key];
    }
    if (next.where && next.where.length === 0) delete next.where;
    onChange(
      tables
        .filter((t) => t.name === name || others.some((o) => o.table === t.name))
        .map((t) => (t.name === name ? next : others.find((o) => o.table === t.name)!)),
    );
  };

  const switchMode = () => {
    if (asJson) {
      try {
        const parsed = JSON.parse(json) as Prefetch[];
        if (!Array.isArray(parsed)) throw new Error('the prefetch is a list: [{"table": "..."}]');
        onChange(parsed);
        if (!parsed.every((p) => filtersOf(p.where) !== null)) {
          setJsonError('These filters ($or, $not) can only be edited as JSON.');
          return;
        }
        setJsonError('');
        setAsJson(false);
      } catch (error) {
        setJsonError(`Not valid JSON: ${(error as Error).message}`);
      }
    } else {
      setJson(JSON.stringify(value, null, 2));
      setAsJson(true);
    }
  };

  return (
    <fieldset className="prefetch">
      <legend>Data the task reads (prefetch)</legend>
      <button type="button" className="link" onClick={switchMode}>
        {asJson ? 'Edit with the form' : 'Edit as JSON'}
      </button>
      {asJson ? (
        <>
          <label htmlFor={`${id}-json`}>Prefetch JSON</label>
          <textarea
            id={`${id}-json`}
            rows={8}
            value={json}
            spellCheck={false}
            onChange={(e) => {
              setJson(e.target.value);
              try {
                const parsed = JSON.parse(e.target.value);
                if (Array.isArray(parsed)) {
                  setJsonError('');
                  onChange(parsed as Prefetch[]);
                }
              } catch {
                setJsonError('Not valid JSON yet.');
              }
            }}
          />
          {jsonError && (
            <p role="alert" className="error">
              {jsonError}
            </p>
          )}
        </>
      ) : tables.length === 0 ? (
        <p className="empty">No tables yet. Define one on the Tables page first.</p>
      ) : (
        tables.map((table) => {
          const selected = selection(table.name);
          const filters = filtersOf(selected?.where) ?? [];
          return (
            <div key={table.name} className="prefetch-table">
              <label>
                <input
                  type="checkbox"
                  checked={selected !== undefined}
                  onChange={(e) => update(table.name, e.target.checked ? {} : null)}
                />{' '}
                Table <strong>{table.name}</strong>
              </label>
              {selected && (
                <div className="prefetch-options">
                  {LIMITS.map(([key, label, placeholder]) => (
                    <label key={key}>
                      {label}
                      <input
                        type="number"
                        min={1}
                        placeholder={placeholder}
                        value={selected[key] ?? ''}
                        onChange={(e) =>
                          update(table.name, {
                            [key]: e.target.value === '' ? undefined : Number(e.target.value),
                          })
                        }
                      />
                    </label>
                  ))}
                  {filters.map((filter, i) => {
                    const set = (change: Partial<Filter>) =>
                      update(table.name, {
                        where: whereOf(filters.map((f, j) => (j === i ? { ...f, ...change } : f))),
                      });
                    return (
                      <div
                        className="filter"
                        key={i}
                        role="group"
                        aria-label={`Filter ${i + 1} on ${table.name}`}
                      >
                        <select
                          aria-label="Column"
                          value={filter.column}
                          onChange={(e) => set({ column: e.target.value })}
                        >
                          {table.columns.map((c) => (
                            <option key={c.name} value={c.name}>
                              {c.name}
                            </option>
                          ))}
                        </select>
                        <select
                          aria-label="Comparison"
                          value={filter.op}
                          onChange={(e) => set({ op: e.target.value })}
                        >
                          {OPERATORS.map(([op, sign]) => (
                            <option key={op} value={op}>
                              {sign}
                            </option>
                          ))}
                        </select>
                        <input
                          aria-label="Value"
                          value={filter.value}
                          onChange={(e) => set({ value: e.target.value })}
                        />
                        <button
                          type="button"
                          aria-label={`Remove filter ${i + 1}`}
                          onClick={() =>
                            update(table.name, {
                              where: whereOf(filters.filter((_, j) => j !== i)),
                            })
                          }
                        >
                          ✕
                        </button>
                      </div>
                    );
                  })}
                  <button
                    type="button"
                    onClick={() =>
                      update(table.name, {
                        where: whereOf([
                          ...filters,
                          { column: table.columns[0]?.name ?? '', op: '$eq', value: '' },
                        ]),
                      })
                    }
                  >
                    Add filter
                  </button>
                </div>
              )}
            </div>
          );
        })
      )}
    </fieldset>
  );
}
