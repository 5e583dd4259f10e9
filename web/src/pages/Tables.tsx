// Tables: definitions, a column editor for new and existing tables, anonymized user counts.
import { useState, type FormEvent } from 'react';
import { api, type Column, type Table } from '../api.ts';
import { ColumnEditor } from '../components/ColumnEditor.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { Empty, ErrorMessage } from '../components/Notice.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { TableHead } from '../components/TableHead.tsx';

export function NewTableForm({ onCreated }: { onCreated(table: Table): void }) {
  const [name, setName] = useState('');
  const [columns, setColumns] = useState<Column[]>([{ name: '', type: 'integer' }]);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await action.run(() =>
      api<{ table: Table }>('/api/site/tables', { body: { name, columns } }),
    );
    if (answer) {
      setName('');
      setColumns([{ name: '', type: 'integer' }]);
      onCreated(answer.table);
    }
  };
  return (
    <form onSubmit={submit} aria-label="Define a table">
      <label>
        Table name
        <input
          value={name}
          required
          pattern="[A-Za-z][A-Za-z0-9_]*"
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <ColumnEditor columns={columns} onChange={setColumns} />
      <button type="submit" disabled={action.busy}>
        Define table
      </button>
      <ErrorMessage message={action.error} />
    </form>
  );
}

function TableCard({
  mayErase,
  table,
  users,
  onChanged,
}: {
  /** Dropping erases rows: only data owners and admins see the buttons (the server checks too). */
  mayErase: boolean;
  table: Table;
  users: number | null | undefined;
  onChanged(): void;
}) {
  const [adding, setAdding] = useState<Column[]>([]);
  const action = useAction();
  const alter = async (change: { add?: Column[]; drop?: string[] }) => {
    if (
      await action.run(() =>
        api(`/api/site/tables/${table.name}`, { method: 'PATCH', body: change }),
      )
    ) {
      setAdding([]);
      onChanged();
    }
  };
  return (
    <article className="card" aria-labelledby={`table-${table.name}`}>
      <h3 id={`table-${table.name}`}>{table.name}</h3>
      <p className="muted">
        Users with rows (anonymized):{' '}
        <strong data-testid={`count-${table.name}`}>
          {users === undefined ? 'not counted yet' : users === null ? 'too few to show' : users}
        </strong>
      </p>
      <table>
        <caption className="visually-hidden">Columns of {table.name}</caption>
        <TableHead columns={mayErase ? ['Column', 'Type', ''] : ['Column', 'Type']} />
        <tbody>
          {table.columns.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>{c.type}</td>
              {mayErase && (
                <td>
                  <button
                    type="button"
                    className="link"
                    disabled={table.columns.length === 1}
                    onClick={() => void alter({ drop: [c.name] })}
                    aria-label={`Drop column ${c.name}`}
                  >
                    Drop
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {adding.length > 0 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void alter({ add: adding });
          }}
          aria-label={`Add columns to ${table.name}`}
        >
          <ColumnEditor columns={adding} onChange={setAdding} />
          <button type="submit">Save new columns</button>{' '}
          <button type="button" onClick={() => setAdding([])}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => setAdding([{ name: '', type: 'integer' }])}>
          Add columns
        </button>
      )}{' '}
      {mayErase && (
        <ConfirmButton
          ask="Drop table…"
          question={`Drop table ${table.name}?`}
          warning={`Drop ${table.name} and all its rows?`}
          confirm="Drop table"
          action={() => api(`/api/site/tables/${table.name}`, { method: 'DELETE' })}
          onDone={onChanged}
        />
      )}
      <ErrorMessage message={action.error} />
    </article>
  );
}

export function Tables({ mayErase }: { mayErase: boolean }) {
  const tables = useLoad(() => api<{ tables: Table[] }>('/api/site/tables'));
  const [counts, setCounts] = useState<Record<string, number | null>>({});
  const counting = useAction();
  const count = () =>
    counting.run(async () => {
      const answer = await api<{ counts: Array<{ table: string; users: number | null }> }>(
        '/api/site/tables/counts',
      );
      setCounts(Object.fromEntries(answer.counts.map((c) => [c.table, c.users])));
    });
  const list = tables.data?.tables;
  return (
    <section aria-labelledby="tables-title">
      <h1 id="tables-title">Tables</h1>
      <p>
        Each row belongs to one user. Tasks read a user's rows; the site never shows rows, only
        anonymized counts.
        {!mayErase &&
          ' Dropping tables or columns erases rows, so only data owners and admins can.'}
      </p>
      <ErrorMessage message={tables.error} />
      {list && list.length === 0 && <Empty>No tables yet. Define your first table below.</Empty>}
      {list && list.length > 0 && (
        <>
          <button type="button" onClick={() => void count()} disabled={counting.busy}>
            {counting.busy ? 'Counting…' : 'Count users (anonymized)'}
          </button>
          <ErrorMessage message={counting.error} />
          <div className="cards">
            {list.map((t) => (
              <TableCard
                key={t.name}
                mayErase={mayErase}
                table={t}
                users={t.name in counts ? counts[t.name] : undefined}
                onChanged={tables.reload}
              />
            ))}
          </div>
        </>
      )}
      <h2>Define a table</h2>
      <NewTableForm onCreated={tables.reload} />
    </section>
  );
}
