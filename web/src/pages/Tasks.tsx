// Tasks: the organisation's tasks with their latest result.
import { api, formatTime, type TaskSummary } from '../api.ts';
import { Empty, ErrorMessage } from '../components/Notice.tsx';
import { useLoad } from '../hooks.ts';
import { TableHead } from '../components/TableHead.tsx';

export function Tasks() {
  const tasks = useLoad(() => api<{ tasks: TaskSummary[] }>('/api/site/tasks'));
  const list = tasks.data?.tasks;
  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <a className="button" href="#/tasks/new">
        New task
      </a>
      <ErrorMessage message={tasks.error} />
      {list && list.length === 0 && (
        <Empty>
          No tasks yet. A task runs once per user and reports properties that are counted and
          anonymized.
        </Empty>
      )}
      {list && list.length > 0 && (
        <div className="scroll">
          <table>
            <TableHead columns={['Name', 'Type', 'Results', 'Latest result', 'Changed']} />
            <tbody>
              {list.map((t) => (
                <tr key={t.token}>
                  <td>
                    <a href={`#/tasks/${t.token}`}>{t.name}</a>
                  </td>
                  <td>{t.type}</td>
                  <td>
                    {t.results ? (
                      <a href={`#/results/${t.token}`}>
                        {t.results} {t.results === 1 ? 'result' : 'results'}
                      </a>
                    ) : (
                      'none yet'
                    )}
                  </td>
                  <td>{formatTime(t.latest_result_at)}</td>
                  <td>{formatTime(t.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
