// The site's shell: session check, login, navigation and the page for the current #route.
import { lazy, Suspense, useEffect, useState } from 'react';
import {
  ACCESS_LEVEL_TEXT,
  api,
  ApiError,
  SESSION_ENDED,
  setCsrfToken,
  type ApiKey,
  type Table,
  type TaskSummary,
  type User,
} from './api.ts';
import { go, useHashRoute } from './hooks.ts';
import { Admin } from './pages/Admin.tsx';
import { Budget } from './pages/Budget.tsx';
import { Keys } from './pages/Keys.tsx';
import { Login } from './pages/Login.tsx';
import { Results } from './pages/Results.tsx';
import { Tables } from './pages/Tables.tsx';
import { Tasks } from './pages/Tasks.tsx';

// The editor (CodeMirror) loads only with the pages that use it.
const TaskEditor = lazy(() =>
  import('./pages/TaskEditor.tsx').then((m) => ({ default: m.TaskEditor })),
);
const Onboarding = lazy(() =>
  import('./pages/Onboarding.tsx').then((m) => ({ default: m.Onboarding })),
);

const ONBOARDED = 'opencloak.onboarded';

const NAV = [
  ['/welcome', 'Getting started'],
  ['/tables', 'Tables'],
  ['/keys', 'Keys'],
  ['/tasks', 'Tasks'],
  ['/budget', 'Budget'],
] as const;

/** A first visit: nothing defined yet in the organisation, and the guide not dismissed. */
async function isFirstVisit(): Promise<boolean> {
  if (localStorage.getItem(ONBOARDED)) return false;
  const [tables, keys, tasks] = await Promise.all([
    api<{ tables: Table[] }>('/api/site/tables'),
    api<{ keys: ApiKey[] }>('/api/site/keys'),
    api<{ tasks: TaskSummary[] }>('/api/site/tasks'),
  ]);
  return tables.tables.length + keys.keys.length + tasks.tasks.length === 0;
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const route = useHashRoute();

  const loggedIn = async (next: User, csrf: string) => {
    setCsrfToken(csrf);
    setUser(next);
    if (route === '/' || route === '/login') go((await isFirstVisit()) ? '/welcome' : '/tasks');
  };

  useEffect(() => {
    api<{ user: User; csrf_token: string }>('/auth/session').then(
      (s) => void loggedIn(s.user, s.csrf_token),
      (e: unknown) => setUser(e instanceof ApiError && e.status === 401 ? null : null),
    );
    const ended = () => setUser(null);
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) return <Login onLogin={(u, csrf) => void loggedIn(u, csrf)} />;

  const logout = async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    setUser(null);
    go('/');
  };

  const [page, arg] = route.split('/').filter(Boolean) as [string?, string?];
  const nav = user.role === 'admin' ? [...NAV, ['/admin', 'Admin'] as const] : NAV;
  return (
    <>
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="top">
        <span className="brand">OpenCloak</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([path, label]) => (
              <li key={path}>
                <a href={`#${path}`} aria-current={route.startsWith(path) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" title={ACCESS_LEVEL_TEXT[user.access_level]}>
          {user.email} · {user.access_level}
        </span>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          {page === 'welcome' ? (
            <Onboarding
              keyTypes={user.key_types}
              onDone={() => {
                localStorage.setItem(ONBOARDED, '1');
                go('/tasks');
              }}
            />
          ) : page === 'tables' ? (
            <Tables mayErase={user.may_erase_data} />
          ) : page === 'keys' ? (
            <Keys types={user.key_types} level={user.access_level} />
          ) : page === 'tasks' && arg ? (
            <TaskEditor token={arg === 'new' ? null : arg} />
          ) : page === 'results' && arg ? (
            <Results token={arg} />
          ) : page === 'budget' ? (
            <Budget level={user.access_level} />
          ) : page === 'admin' && user.role === 'admin' ? (
            <Admin />
          ) : (
            <Tasks />
          )}
        </Suspense>
      </main>
    </>
  );
}
