// A small HTTPS client for tests: client certificates as .pfx or PEM, JSON in and out.
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
  const tlsOptions = options.agent
    ? { agent: options.agent }
    : { ca, agent: false as const, ...(options.key ?? {}) };
  return new Promise((resolve, reject) => {
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
    req.on('error', reject);
    req.end(payload);
  });
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
