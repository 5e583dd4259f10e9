// Editing a list of columns (name and type), for a new table or the columns added to one.
import type { Column } from '../api.ts';

export const COLUMN_TYPES = [
  'integer',
  'bigint',
  'float',
  'double',
  'boolean',
  'text',
  'varchar(255)',
];

export function ColumnEditor({
  columns,
  onChange,
}: {
  columns: Column[];
  onChange(columns: Column[]): void;
}) {
  const set = (i: number, change: Partial<Column>) =>
    onChange(columns.map((c, j) => (j === i ? { ...c, ...change } : c)));
  return (
    <div className="columns">
      {columns.map((column, i) => (
        <div className="column-row" role="group" aria-label={`Column ${i + 1}`} key={i}>
          <label>
            Column name
            <input
              value={column.name}
              required
              pattern="[A-Za-z][A-Za-z0-9_]*"
              onChange={(e) => set(i, { name: e.target.value })}
            />
          </label>
          <label>
            Type
            <select value={column.type} onChange={(e) => set(i, { type: e.target.value })}>
              {[...new Set([...COLUMN_TYPES, column.type])].map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <button
            type="button"
            aria-label={`Remove column ${i + 1}`}
            disabled={columns.length === 1}
            onClick={() => onChange(columns.filter((_, j) => j !== i))}
          >
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...columns, { name: '', type: 'integer' }])}>
        Add column
      </button>
    </div>
  );
}
