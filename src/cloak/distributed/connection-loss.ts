// Which queue errors are a lost connection (PostgreSQL restarting), worth retrying on a new one, and which are not.

/**
 * How long a coordinator or a worker keeps retrying a queue call whose connection was lost. A
 * PostgreSQL restart (a fast shutdown and a start) cuts every session and refuses new ones for a
 * few seconds; a database away for longer fails the run (coordinator) or leaves the shard to its
 * expiry and retry (worker) instead of holding either for good.
 */
export const RECONNECT_GRACE_MS = 30_000;

/**
 * SQLSTATE classes and codes of a session that ended or could not start for the server's sake:
 * 08 connection exception, 57P01 admin_shutdown (pg_terminate_backend, a fast shutdown), 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down).
 */
const LOST_CODES = new Set(['57P01', '57P02', '57P03']);
/** Node's socket errors when the server is not there (yet) or went away mid-call. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN']);

/**
 * True when `error` says the connection went, not that the call was wrong: the same call may
 * succeed on a new connection. A database that does not exist (dropped) or refuses the
 * credentials is not a lost connection: retrying would only delay the error.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return code.startsWith('08') || LOST_CODES.has(code) || SOCKET_CODES.has(code);
  }
  // node-postgres ends a query whose socket closed with these messages and no code.
  return /^Connection terminated|^Client has encountered a connection error/.test(error.message);
}
