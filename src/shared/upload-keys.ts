// Names a key of an upload's JSON (user, table, row, column) for errors about the key itself, e.g. given twice.
import { showJsonPath, type JsonPath } from './json-text.ts';

/** Untrusted text as it is quoted in a message: escaped, and cut at 80 characters. */
function shown(text: string | number): string {
  const escaped = JSON.stringify(String(text)).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 80)}…` : escaped;
}

/**
 * `User "u9", table "purchases"` for a key of a /bulk_insert body (`{"<user id>": {"<table>":
 * [rows]}}`) at `path`, in the words of the value errors (INVALID_VALUE). The key is read before
 * anything else of the request, so for a one-user body (`/insert`: `{"<table>": [rows]}`,
 * `oneUser`) the user is not known yet and the name starts at the table.
 */
export function uploadKeyName(path: JsonPath, key: string, oneUser = false): string {
  const parts = oneUser ? ['', ...path] : path;
  const user = (id: string | number) => (oneUser ? 'Table' : `User "${shown(id)}", table`);
  const [owner = '', table = '', row] = parts;
  const named = typeof owner === 'string' && typeof table === 'string';
  if (parts.length === 0) return `User "${shown(key)}"`;
  if (parts.length === 1 && named) return `${user(owner)} "${shown(key)}"`;
  if (parts.length === 3 && named && typeof row === 'number') {
    return `${user(owner)} "${shown(table)}", row ${row + 1}, column "${shown(key)}"`;
  }
  return `The key "${shown(key)}" at ${showJsonPath(path)}`;
}
