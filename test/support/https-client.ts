// A small HTTPS client for tests: client certificates as .pfx or PEM, JSON in and out.
import { createHash } from 'node:crypto';
import https from 'node:https';
import { gzipSync } from 'node:zlib';

export interface TestKey {
  pfx?: Buffer;
  cert?: string;
  key?: string;
  passphrase?: string;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  rawBody?: Buffer | string;
  headers?: Record<string, string>;
  key?: TestKey;
  gzip?: boolean;
  agent?: https.Agent;
  /** The client's source address, e.g. 127.0.0.2 (any 127.x address works on Linux loopback). */
  localAddress?: string;
  /** A connection of its own, closed after the answer (a test of what a new client meets). */
  fresh?: boolean;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function request(
  url: string,
  ca: string,
  options: RequestOptions = {},
): Promise<TestResponse> {
  let payload: Buffer | undefined =
    options.rawBody !== undefined
      ? Buffer.from(options.rawBody)
      : options.body !== undefined
        ? Buffer.from(JSON.stringify(options.body))
        : undefined;
  const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
  if (payload && options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] ??= 'gzip';
  }
  if (payload) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = payload.length;
  }
  const agent = options.agent ?? (options.fresh ? false : agentFor(ca, options.key ?? {}));
  const tlsOptions = agent === false ? { ca, agent, ...(options.key ?? {}) } : { agent };
  const send = (retry: boolean): Promise<TestResponse> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: options.method ?? (payload ? 'POST' : 'GET'),
          headers,
          ...tlsOptions,
          ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server closed a kept-alive connection as the request left on it (its idle timeout,
        // or a restart): nothing reached it, so the request goes again on a new connection.
        if (retry && req.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(error.code ?? '')) {
          resolve(send(false));
        } else reject(error);
      });
      req.end(payload);
    });
  return send(true);
}

/**
 * One kept-alive agent per (CA, client key); it pools connections per source address itself
 * (a request's localAddress is part of its pool's name). A new TLS connection per request
 * (a PKCS#12 decode and a handshake with two RSA signatures) cost about 8 ms of CPU against
 * 0.8 ms on an open one, measured through a test installation: most of the suite's requests.
 * The server checks the key on every request (client-auth.ts), so a key revoked meanwhile is
 * refused on an open connection too; a test of the handshake itself asks for `fresh`.
 */
const agents = new Map<string, https.Agent>();
const MAX_AGENTS = 64;

function agentFor(ca: string, key: TestKey): https.Agent {
  const id = createHash('sha256')
    .update(JSON.stringify([ca, key.cert ?? null, key.key ?? null, key.passphrase ?? null]))
    .update(key.pfx ?? '')
    .digest('base64');
  let agent = agents.get(id);
  if (agent) {
    // Most recently used last: the oldest agent is the one dropped.
    agents.delete(id);
    agents.set(id, agent);
    return agent;
  }
  agent = new https.Agent({ keepAlive: true, ca, ...key });
  agents.set(id, agent);
  if (agents.size > MAX_AGENTS) {
    const [oldest] = agents.keys();
    // Forgotten, not destroyed: a test may still wait on one of its requests. Its connections
    // end with their server, or with the server's keep-alive timeout.
    agents.delete(oldest!);
  }
  return agent;
}

/**
 * What a refused client sees: the TLS layer closes a connection whose certificate fails
 * verification (foreign CA, or on the CRL), and the request layer answers 401 JSON otherwise.
 */
export async function refusal(
  response: Promise<TestResponse>,
): Promise<{ tls: true } | { tls: false; status: number; json: TestResponse['json'] }> {
  try {
    const { status, json } = await response;
    return { tls: false, status, json };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (/^(ECONNRESET|EPIPE|ERR_SSL_)/.test(code)) return { tls: true };
    throw error;
  }
}
