// Keys: create (type, description, password), download once as .pfx or .pem, list, revoke.
import { useEffect, useState, type FormEvent } from 'react';
import { ACCESS_LEVEL_TEXT, api, formatTime, type AccessLevel, type ApiKey } from '../api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { Empty, ErrorMessage } from '../components/Notice.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { TableHead } from '../components/TableHead.tsx';

const KEY_TYPES = [
  ['web_api', 'Web API: tasks and results over the REST API'],
  ['task_runner', 'Task runner: run tasks on the cloak API'],
  ['upload_any', 'Data upload for any user'],
  ['upload_user', 'Data upload for one named user'],
  ['admin', 'Admin: table definitions and lookup tables on the cloak'],
] as const;

interface Created {
  key: ApiKey;
  pfx_base64: string;
  pem: string;
}

function DownloadLinks({ created }: { created: Created }) {
  const [urls, setUrls] = useState<{ pfx: string; pem: string } | null>(null);
  useEffect(() => {
    const bytes = Uint8Array.from(atob(created.pfx_base64), (c) => c.charCodeAt(0));
    const next = {
      pfx: URL.createObjectURL(new Blob([bytes], { type: 'application/x-pkcs12' })),
      pem: URL.createObjectURL(new Blob([created.pem], { type: 'application/x-pem-file' })),
    };
    setUrls(next);
    return () => {
      URL.revokeObjectURL(next.pfx);
      URL.revokeObjectURL(next.pem);
    };
  }, [created]);
  if (!urls) return null;
  const base = `opencloak-${created.key.type}-${created.key.id}`;
  return (
    <div className="notice" role="status">
      <p>
        <strong>Key “{created.key.description}” created.</strong> Download it now: the files are not
        kept, and the password you chose protects them.
      </p>
      <a className="button" href={urls.pfx} download={`${base}.pfx`}>
        Download .pfx
      </a>{' '}
      <a className="button" href={urls.pem} download={`${base}.pem`}>
        Download .pem
      </a>
    </div>
  );
}

export function NewKeyForm({
  onCreated,
  types,
}: {
  onCreated(created: Created): void;
  /** The types the person's role may create (the server refuses the others). */
  types: readonly string[];
}) {
  const choices = KEY_TYPES.filter(([value]) => types.includes(value));
  const [type, setType] = useState<string>(choices[0]?.[0] ?? 'web_api');
  const [description, setDescription] = useState('');
  const [password, setPassword] = useState('');
  const [userId, setUserId] = useState('');
  const [legacy, setLegacy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await action.run(() =>
      api<Created>('/api/site/keys', {
        body: {
          type,
          description,
          password,
          legacy_pkcs12: legacy,
          ...(type === 'upload_user' ? { user_id: userId } : {}),
        },
      }),
    );
    if (answer) {
      setCreated(answer);
      setPassword('');
      setDescription('');
      onCreated(answer);
    }
  };
  return (
    <>
      <form onSubmit={submit} aria-label="Create a key">
        <label>
          Key type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {choices.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input
            required
            maxLength={200}
            placeholder="e.g. reporting server"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        {type === 'upload_user' && (
          <label>
            User id
            <input required value={userId} onChange={(e) => setUserId(e.target.value)} />
          </label>
        )}
        <label>
          Password for the key files (at least 4 characters)
          <input
            type="password"
            required
            minLength={4}
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={legacy} onChange={(e) => setLegacy(e.target.checked)} />{' '}
          Legacy 3DES .pfx (only for old keychains)
        </label>
        <button type="submit" disabled={action.busy}>
          Create key
        </button>
        <ErrorMessage message={action.error} />
      </form>
      {created && <DownloadLinks created={created} />}
    </>
  );
}

function RevokeButton({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked(): void }) {
  if (apiKey.status !== 'active') return null;
  return (
    <ConfirmButton
      ask="Revoke…"
      askLabel={`Revoke key ${apiKey.description}`}
      question={`Revoke key ${apiKey.description}?`}
      warning="Clients using it stop working at once."
      confirm="Revoke key"
      action={() => api(`/api/site/keys/${apiKey.id}`, { method: 'DELETE' })}
      onDone={onRevoked}
    />
  );
}

export function Keys({ types, level }: { types: readonly string[]; level: AccessLevel }) {
  const keys = useLoad(() => api<{ keys: ApiKey[] }>('/api/site/keys'));
  const list = keys.data?.keys;
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <p>
        Every API call is made with a key: a client certificate this installation issued. Your role
        decides which types you may create; ask an admin for the others.
      </p>
      <p>
        Your access level is <strong>{ACCESS_LEVEL_TEXT[level]}</strong>. Your keys and the tasks
        you start run at it (never above the level of whoever last saved the task), as it is when
        each run starts: an admin who changes it changes what your existing keys do.
      </p>
      <h2>Create a key</h2>
      <NewKeyForm onCreated={keys.reload} types={types} />
      <h2>Your organisation's keys</h2>
      <ErrorMessage message={keys.error} />
      {list && list.length === 0 && <Empty>No keys yet. Create one above.</Empty>}
      {list && list.length > 0 && (
        <div className="scroll">
          <table>
            <TableHead columns={['Description', 'Type', 'Created', 'Expires', 'Status', '']} />
            <tbody>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.description}
                    {k.user_id ? ` (user ${k.user_id})` : ''}
                  </td>
                  <td>{k.type}</td>
                  <td>{formatTime(k.created_at)}</td>
                  <td>{formatTime(k.expires_at)}</td>
                  <td>
                    <span className={`status ${k.status}`}>{k.status}</span>
                  </td>
                  <td>
                    <RevokeButton apiKey={k} onRevoked={keys.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
