// The task editor: code with completion, prefetch form or JSON, "try it" on test users, save, run.
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  api,
  type Prefetch,
  type Result,
  type Run,
  type Table,
  type Task,
  type TestOutcome,
  type TestUser,
} from '../api.ts';
import { CodeEditor } from '../components/CodeEditor.tsx';
import { ErrorMessage } from '../components/Notice.tsx';
import { PrefetchForm } from '../components/PrefetchForm.tsx';
import { PreviewCost } from '../components/PreviewCost.tsx';
import { SqlReference } from '../components/SqlReference.tsx';
import { go, useAction, useLoad } from '../hooks.ts';
import { generateTestUsers } from '../test-users.ts';
import { ResultView } from './Results.tsx';
import { RunProgress } from '../components/RunProgress.tsx';
import { TableHead } from '../components/TableHead.tsx';

const STARTER = `// Runs once per user. tables.<name> holds this user's rows.
// report_property(label, value) counts this user once for (label, value).
`;

const SCHEDULE_HINT: Record<string, string> = {
  periodic: '{"every_seconds": 3600} or {"cron": "0 6 * * 1"} (UTC)',
  streaming: '{"report_interval": 3600, "user_expire_interval": 86400}',
};

function parseSchedule(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`The schedule is not valid JSON. Write it like ${SCHEDULE_HINT.periodic}.`);
  }
}

export interface TaskEditorProps {
  token: string | null;
  /** A new task's first draft (onboarding: the table just defined). */
  draft?: { name: string; code: string; prefetch: Prefetch[] };
  /** Told when a run has published its result. */
  onResult?(result: Result): void;
}

export function TaskEditor({ token, draft, onResult }: TaskEditorProps) {
  const tables = useLoad(() => api<{ tables: Table[] }>('/api/site/tables'));
  const [task, setTask] = useState<Task | null>(null);
  const [name, setName] = useState(draft?.name ?? '');
  const [type, setType] = useState<Task['type']>('batch');
  const [language, setLanguage] = useState<Task['language']>('javascript');
  const [code, setCode] = useState(draft?.code ?? STARTER);
  const [prefetch, setPrefetch] = useState<Prefetch[]>(draft?.prefetch ?? []);
  const [schedule, setSchedule] = useState('');
  const [usersJson, setUsersJson] = useState('');
  const [outcomes, setOutcomes] = useState<TestOutcome[] | null>(null);
  const [triedCode, setTriedCode] = useState<string | null>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [saved, setSaved] = useState('');
  const load = useAction();
  const save = useAction();
  const tryIt = useAction();
  const runner = useAction();
  const polling = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!token) return;
    void load.run(async () => {
      const { task: loaded } = await api<{ task: Task }>(`/api/site/tasks/${token}`);
      setTask(loaded);
      setName(loaded.name);
      setType(loaded.type);
      setLanguage(loaded.language);
      setCode(loaded.code);
      setPrefetch(loaded.prefetch);
      setSchedule(loaded.schedule ? JSON.stringify(loaded.schedule) : '');
    });
  }, [token]);
  useEffect(() => () => window.clearInterval(polling.current), []);

  const allTables = useMemo(() => tables.data?.tables ?? [], [tables.data]);
  // A sql task names its tables in its query: it has no prefetch, and any table may be completed.
  const isSql = language === 'sql';
  const selection = useMemo(
    () => (isSql ? allTables.map((t) => ({ table: t.name })) : prefetch),
    [isSql, allTables, prefetch],
  );
  const selectedTables = useMemo(
    () => allTables.filter((t) => selection.some((p) => p.table === t.name)),
    [allTables, selection],
  );
  useEffect(() => {
    if (!usersJson && selectedTables.length > 0) {
      setUsersJson(JSON.stringify(generateTestUsers(allTables, selection), null, 2));
    }
  }, [selectedTables]);

  const body = () => ({
    name,
    type,
    language,
    code,
    prefetch: isSql ? [] : prefetch,
    ...(type !== 'batch' && schedule.trim() ? { schedule: parseSchedule(schedule) } : {}),
  });

  const onSave = async () => {
    setSaved('');
    const answer = await save.run(() =>
      task
        ? api<{ task: Task }>(`/api/site/tasks/${task.token}`, { method: 'PUT', body: body() })
        : api<{ task: Task }>('/api/site/tasks', { body: body() }),
    );
    if (answer) {
      setTask(answer.task);
      setSaved(`Saved (version ${answer.task.code_version}).`);
      if (!task && !draft) window.history.replaceState(null, '', `#/tasks/${answer.task.token}`);
    }
  };

  const onTry = async () => {
    const answer = await tryIt.run(async () => {
      const users = JSON.parse(usersJson || '[]') as TestUser[];
      return api<{ users: TestOutcome[] }>('/api/site/tasks/try', {
        body: { code, prefetch: isSql ? [] : prefetch, language, users },
      });
    });
    if (answer) {
      setOutcomes(answer.users);
      setTriedCode(code);
    }
  };

  const onRun = async () => {
    if (!task) return;
    setResult(null);
    const started = await runner.run(() =>
      api<{ run: Run }>(`/api/site/tasks/${task.token}/run`, { method: 'POST' }),
    );
    if (!started) return;
    setRun(started.run);
    window.clearInterval(polling.current);
    polling.current = window.setInterval(async () => {
      const { run: now } = await api<{ run: Run }>(
        `/api/site/tasks/${task.token}/runs/${started.run.id}`,
      );
      setRun(now);
      if (now.state !== 'running') {
        window.clearInterval(polling.current);
        if (now.result_id !== null) {
          const page = await api<{ results: Result[] }>(
            `/api/site/tasks/${task.token}/results?per_page=1`,
          );
          setResult(page.results[0] ?? null);
          if (page.results[0]) onResult?.(page.results[0]);
        }
      }
    }, 400);
  };

  const changedSinceTry = triedCode !== null && triedCode !== code;
  // A saved sql task's prefetch is what the cloak derived from its query, not something edited.
  const dirty =
    task !== null &&
    (task.code !== code ||
      task.name !== name ||
      task.language !== language ||
      (!isSql && JSON.stringify(task.prefetch) !== JSON.stringify(prefetch)));
  return (
    <section
      aria-labelledby={draft ? undefined : 'editor-title'}
      aria-label={draft ? 'Task editor' : undefined}
    >
      {!draft && <h1 id="editor-title">{task ? `Task ${task.name}` : 'New task'}</h1>}
      <ErrorMessage message={load.error || tables.error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void onSave();
        }}
        aria-label="Task"
      >
        <div className="row">
          <label>
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Type
            <select value={type} onChange={(e) => setType(e.target.value as Task['type'])}>
              <option value="batch">batch (run on demand)</option>
              <option value="periodic">periodic (on a schedule)</option>
              <option value="streaming">streaming (as data arrives)</option>
            </select>
          </label>
          <label>
            Language
            <select
              value={language}
              onChange={(e) => setLanguage(e.target.value as Task['language'])}
            >
              <option value="javascript">JavaScript</option>
              <option value="typescript">TypeScript</option>
              <option value="sql">SQL</option>
            </select>
          </label>
        </div>
        {type !== 'batch' && (
          <label>
            Schedule (JSON: {SCHEDULE_HINT[type]})
            <input
              value={schedule}
              onChange={(e) => setSchedule(e.target.value)}
              placeholder={SCHEDULE_HINT[type]}
            />
          </label>
        )}
        {isSql ? (
          <>
            <p className="muted">
              A SQL task selects its rows itself:{' '}
              <code>SELECT city, count(DISTINCT user) FROM visits WHERE ... GROUP BY city</code>.
            </p>
            <SqlReference />
          </>
        ) : (
          <PrefetchForm tables={allTables} value={prefetch} onChange={setPrefetch} />
        )}
        <h2 id="code-title">Code</h2>
        <p className="muted">
          Ctrl+Space completes the task API, the selected tables and their columns.
        </p>
        <CodeEditor
          label="Task code"
          value={code}
          onChange={setCode}
          tables={selectedTables}
          language={language}
        />
        <div className="actions">
          <button type="submit" disabled={save.busy}>
            {task ? 'Save changes' : 'Save task'}
          </button>
          {task && (
            <button
              type="button"
              onClick={() => void onRun()}
              disabled={runner.busy || run?.state === 'running' || dirty || task.type !== 'batch'}
            >
              Run now
            </button>
          )}
          {task && <a href={`#/results/${task.token}`}>Results</a>}
          {task && (
            <button
              type="button"
              className="danger"
              onClick={() =>
                void save
                  .run(() => api(`/api/site/tasks/${task.token}`, { method: 'DELETE' }))
                  .then(() => go('/tasks'))
              }
            >
              Delete task
            </button>
          )}
        </div>
        {task && <PreviewCost token={task.token} disabled={dirty || task.type === 'streaming'} />}
        {dirty && <p className="muted">Save your changes before running.</p>}
        <p role="status">{saved}</p>
        <ErrorMessage message={save.error || runner.error} />
      </form>
      {run && <RunProgress run={run} />}
      {result && <ResultView result={result} title="Result of this run" />}

      <h2>Try it on test users</h2>
      <p className="muted">
        Runs the code in the sandbox on these made-up users only. Real data is never read, and what
        each test user reported is shown as is.
      </p>
      <label>
        Test users (JSON: id and rows per table)
        <textarea
          rows={8}
          spellCheck={false}
          value={usersJson}
          onChange={(e) => setUsersJson(e.target.value)}
        />
      </label>
      <div className="actions">
        <button
          type="button"
          onClick={() =>
            setUsersJson(JSON.stringify(generateTestUsers(allTables, selection), null, 2))
          }
        >
          Generate test users
        </button>
        <button
          type="button"
          onClick={() => void onTry()}
          disabled={tryIt.busy || selection.length === 0}
        >
          {tryIt.busy ? 'Trying…' : 'Try it'}
        </button>
      </div>
      {changedSinceTry && (
        <p role="status" className="warning">
          The code changed since the last try.
        </p>
      )}
      <ErrorMessage message={tryIt.error} />
      {outcomes && (
        <table aria-label="Try-it outcomes">
          <TableHead columns={['Test user', 'Reported']} />
          <tbody>
            {outcomes.map((o) => (
              <tr key={o.id}>
                <td>{o.id}</td>
                <td>
                  {o.ok ? (
                    o.properties.length === 0 ? (
                      <span className="muted">nothing</span>
                    ) : (
                      o.properties.map(([l, v]) => `${l}: ${v}`).join(', ')
                    )
                  ) : (
                    <span className="error">Error: {o.error}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
