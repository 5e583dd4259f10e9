// First visit: define a table, create a key, write a task, see its result.
import { useEffect, useState } from 'react';
import { api, type ApiKey, type Table, type TaskSummary } from '../api.ts';
import { NewKeyForm } from './Keys.tsx';
import { NewTableForm } from './Tables.tsx';
import { TaskEditor } from './TaskEditor.tsx';

const STEPS = ['Define a table', 'Create a key', 'Write a task', 'See its result'];

/** A first task for the table just defined: one bucket per value of its first column. */
function firstTask(table: Table) {
  const column = table.columns[0]!.name;
  return {
    name: `${table.name}-by-${column}`,
    prefetch: [{ table: table.name }],
    code: `// Runs once per user; tables.${table.name} holds this user's rows.
const rows = tables.${table.name};
if (rows.length > 0) report_property('${column}', rows[0].${column});
`,
  };
}

/** Where the organisation stands: the guide resumes at the first step it has not done. */
export interface Progress {
  table: Table | null;
  hasKey: boolean;
  /** Tasks that have published at least one result. */
  tasksWithResults: number;
}

async function loadProgress(): Promise<Progress> {
  const [tables, keys, tasks] = await Promise.all([
    api<{ tables: Table[] }>('/api/site/tables'),
    api<{ keys: ApiKey[] }>('/api/site/keys'),
    api<{ tasks: TaskSummary[] }>('/api/site/tasks'),
  ]);
  return {
    table: tables.tables[0] ?? null,
    hasKey: keys.keys.some((k) => k.status === 'active'),
    tasksWithResults: tasks.tasks.filter((t) => (t.results ?? 0) > 0).length,
  };
}

/** The first step not done yet (3: all done, a task has a result). */
export function firstOpenStep(progress: Progress): number {
  if (!progress.table) return 0;
  if (!progress.hasKey) return 1;
  return progress.tasksWithResults > 0 ? 3 : 2;
}

export function Onboarding({
  onDone,
  keyTypes,
  load = loadProgress,
}: {
  onDone(): void;
  keyTypes: readonly string[];
  /** The organisation's progress; tests pass their own. */
  load?: () => Promise<Progress>;
}) {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [step, setStep] = useState(0);
  const [table, setTable] = useState<Table | null>(null);
  const [keyDone, setKeyDone] = useState(false);
  useEffect(() => {
    // An organisation with tables, keys or results resumes where it is, not at step 1.
    load().then(
      (loaded) => {
        setTable(loaded.table);
        setKeyDone(loaded.hasKey);
        setStep(firstOpenStep(loaded));
        setProgress(loaded);
      },
      () => setProgress({ table: null, hasKey: false, tasksWithResults: 0 }),
    );
  }, [load]);
  if (!progress) return <p className="loading">Loading…</p>;
  const finished = step === 3 && progress.tasksWithResults > 0;
  return (
    <section aria-labelledby="welcome-title">
      <h1 id="welcome-title">Getting started</h1>
      <ol className="steps">
        {STEPS.map((label, i) => (
          <li
            key={label}
            aria-current={i === step && !finished ? 'step' : undefined}
            className={i < step || finished ? 'done' : ''}
          >
            {label}
          </li>
        ))}
      </ol>
      {step === 0 && (
        <div>
          <h2>1. Define a table</h2>
          <p>A table holds rows that each belong to one user. Name it and give it columns.</p>
          {table ? (
            <p role="status">Table {table.name} is defined.</p>
          ) : (
            <NewTableForm onCreated={setTable} />
          )}
          <button type="button" disabled={!table} onClick={() => setStep(1)}>
            Next: create a key
          </button>
        </div>
      )}
      {step === 1 && (
        <div>
          <h2>2. Create a key</h2>
          <p>
            Programs upload rows and read results with a key. An upload key (any user) sends rows
            for {table?.name}; a web API key reads results. Your role decides which you may create:
            data owners upload, analysts read and run tasks.
          </p>
          <NewKeyForm onCreated={() => setKeyDone(true)} types={keyTypes} />
          <p className="muted">
            With an upload key, send rows to the cloak API (port 8444 by default):{' '}
            <code>
              curl --cert-type P12 --cert key.pfx:PASSWORD -H 'content-type: application/json' -d '
              {`{"user-1": {"${table?.name}": [ ...rows ]}}`}' https://HOST:8444/bulk_insert
            </code>
            . The API reference (docs/api.md) has the details.
          </p>
          <button type="button" disabled={!keyDone} onClick={() => setStep(2)}>
            Next: write a task
          </button>
        </div>
      )}
      {finished && (
        <div>
          <h2>All four steps are done</h2>
          <p>
            Your organisation has a table ({table?.name}), a key and{' '}
            {progress.tasksWithResults === 1
              ? 'a task with a result'
              : `${progress.tasksWithResults} tasks with results`}
            . Read them under <a href="#/tasks">Tasks</a>, or write another task.
          </p>
          <button type="button" onClick={() => setStep(2)}>
            Write another task
          </button>{' '}
          <button type="button" onClick={onDone}>
            Finish: go to my tasks
          </button>
        </div>
      )}
      {!finished && step >= 2 && table && (
        <div>
          <h2>3. Write a task, 4. see its result</h2>
          <p>
            A task runs once per user on that user's rows and reports properties; OpenCloak counts
            the distinct users per property and anonymizes the counts. Try it on test users, save
            it, then run it on your data.
          </p>
          <TaskEditor token={null} draft={firstTask(table)} onResult={() => setStep(3)} />
          {step === 3 && (
            <button type="button" onClick={onDone}>
              Finish: go to my tasks
            </button>
          )}
        </div>
      )}
      <p>
        <button type="button" className="link" onClick={onDone}>
          Skip the guide
        </button>
      </p>
    </section>
  );
}
