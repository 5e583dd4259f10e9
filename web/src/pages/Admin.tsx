// Admin: organisations, users with their roles and access levels, the audit log.
import { useState, type FormEvent } from 'react';
import { ACCESS_LEVEL_TEXT, api, formatTime, type AccessLevel, type Role } from '../api.ts';
import { ErrorMessage } from '../components/Notice.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { TableHead } from '../components/TableHead.tsx';

interface Org {
  id: string;
  name: string;
  created_at: number;
}
interface SiteUser {
  id: string;
  org_id: string;
  email: string;
  name: string;
  role: Role;
  access_level: AccessLevel;
}

/** Which keys each role may create is enforced by the server; the labels say it for the admin. */
const ROLE_OPTIONS: ReadonlyArray<readonly [Role, string]> = [
  ['analyst', 'analyst (web API and task-runner keys)'],
  ['data_owner', 'data owner (upload keys)'],
  ['admin', 'admin (all keys)'],
];
const roleOptions = ROLE_OPTIONS.map(([value, label]) => (
  <option key={value} value={value}>
    {label}
  </option>
));
const levelOptions = (Object.keys(ACCESS_LEVEL_TEXT) as AccessLevel[]).map((value) => (
  <option key={value} value={value}>
    {ACCESS_LEVEL_TEXT[value]}
  </option>
));
interface Entry {
  id: number;
  at: number;
  org_id: string | null;
  event: string;
  actor: string;
  detail: Record<string, unknown>;
}

export function Admin() {
  const orgs = useLoad(() => api<{ organisations: Org[] }>('/api/site/admin/organisations'));
  const users = useLoad(() => api<{ users: SiteUser[] }>('/api/site/admin/users'));
  const audit = useLoad(() => api<{ entries: Entry[] }>('/api/site/admin/audit?limit=100'));
  const [orgName, setOrgName] = useState('');
  const [user, setUser] = useState({
    org_id: '',
    email: '',
    name: '',
    role: 'analyst',
    password: '',
  });
  const action = useAction();
  const orgList = orgs.data?.organisations ?? [];
  /** "analyst:<id>" (also in "cli for analyst:<id>") shown as the person's e-mail. */
  const actorName = (actor: string) =>
    actor.replace(
      /analyst:(\S+)/,
      (whole, id: string) => users.data?.users.find((u) => u.id === id)?.email ?? whole,
    );
  const nameOf = (id: string | null) => orgList.find((o) => o.id === id)?.name ?? id ?? '—';

  const createOrg = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => api('/api/site/admin/organisations', { body: { name: orgName } }))) {
      setOrgName('');
      orgs.reload();
    }
  };
  const createUser = async (e: FormEvent) => {
    e.preventDefault();
    const body = { ...user, org_id: user.org_id || orgList[0]?.id };
    if (await action.run(() => api('/api/site/admin/users', { body }))) {
      setUser({ ...user, email: '', name: '', password: '' });
      users.reload();
    }
  };
  const setRole = (id: string, role: string) =>
    void action
      .run(() => api(`/api/site/admin/users/${id}/role`, { method: 'PUT', body: { role } }))
      .then(users.reload);
  const setLevel = (id: string, level: string) =>
    void action
      .run(() =>
        api(`/api/site/admin/users/${id}/access_level`, {
          method: 'PUT',
          body: { access_level: level },
        }),
      )
      .then(users.reload);

  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      <ErrorMessage message={action.error || orgs.error || users.error || audit.error} />
      <h2>Organisations</h2>
      <ul>
        {orgList.map((o) => (
          <li key={o.id}>
            {o.name} <span className="muted">since {formatTime(o.created_at)}</span>
          </li>
        ))}
      </ul>
      <form onSubmit={createOrg} aria-label="Create an organisation" className="row">
        <label>
          New organisation
          <input required value={orgName} onChange={(e) => setOrgName(e.target.value)} />
        </label>
        <button type="submit">Create organisation</button>
      </form>

      <h2>Users</h2>
      <div className="scroll">
        <table>
          <TableHead columns={['E-mail', 'Name', 'Organisation', 'Role', 'Access level']} />
          <tbody>
            {(users.data?.users ?? []).map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.name}</td>
                <td>{nameOf(u.org_id)}</td>
                <td>
                  <select
                    aria-label={`Role of ${u.email}`}
                    value={u.role}
                    onChange={(e) => setRole(u.id, e.target.value)}
                  >
                    {roleOptions}
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Access level of ${u.email}`}
                    value={u.access_level}
                    onChange={(e) => setLevel(u.id, e.target.value)}
                  >
                    {levelOptions}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form onSubmit={createUser} aria-label="Add a user">
        <div className="row">
          <label>
            Organisation
            <select
              value={user.org_id}
              onChange={(e) => setUser({ ...user, org_id: e.target.value })}
            >
              {orgList.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            E-mail
            <input
              type="email"
              required
              value={user.email}
              onChange={(e) => setUser({ ...user, email: e.target.value })}
            />
          </label>
          <label>
            Name
            <input
              required
              value={user.name}
              onChange={(e) => setUser({ ...user, name: e.target.value })}
            />
          </label>
          <label>
            Role
            <select value={user.role} onChange={(e) => setUser({ ...user, role: e.target.value })}>
              {roleOptions}
            </select>
          </label>
          <label>
            Initial password (10 or more characters)
            <input
              type="password"
              autoComplete="new-password"
              required
              minLength={10}
              value={user.password}
              onChange={(e) => setUser({ ...user, password: e.target.value })}
            />
          </label>
        </div>
        <button type="submit">Add user</button>
      </form>

      <h2>Audit log</h2>
      <div className="scroll">
        <table>
          <TableHead columns={['When', 'Event', 'Organisation', 'Who', 'Detail']} />
          <tbody>
            {(audit.data?.entries ?? []).map((e) => (
              <tr key={e.id}>
                <td className="nowrap">{formatTime(e.at)}</td>
                <td>{e.event}</td>
                <td>{nameOf(e.org_id)}</td>
                <td>{actorName(e.actor)}</td>
                <td>
                  <dl className="detail">
                    {Object.entries(e.detail).map(([key, value]) => (
                      <div key={key}>
                        <dt>{key}</dt>
                        <dd>{String(value)}</dd>
                      </div>
                    ))}
                  </dl>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
