// The login form.
import { useState, type FormEvent } from 'react';
import { api, type User } from '../api.ts';
import { useAction } from '../hooks.ts';
import { ErrorMessage } from '../components/Notice.tsx';

export function Login({ onLogin }: { onLogin(user: User, csrf: string): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await action.run(() =>
      api<{ user: User; csrf_token: string }>('/auth/login', { body: { email, password } }),
    );
    if (answer) onLogin(answer.user, answer.csrf_token);
  };
  return (
    <main className="login">
      <h1>OpenCloak</h1>
      <p>Log in to manage your tables, keys, tasks and results.</p>
      <form onSubmit={submit}>
        <label>
          E-mail
          <input
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Logging in…' : 'Log in'}
        </button>
        <ErrorMessage message={action.error} />
      </form>
    </main>
  );
}
