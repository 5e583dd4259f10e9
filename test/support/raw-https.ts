// Sends hand-written HTTP/1.1 bytes over TLS, for requests no well-behaved client would send.
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, status line and headers included. */
  raw: string;
}

/**
 * Writes `request` as is and reads until the server closes the connection (or `timeoutMs`
 * passes), then splits off the status line and headers. A write error after the server has
 * answered (it may close while we still send) does not lose the answer.
 */
export function rawHttps(
  url: string,
  ca: string,
  request: string | Buffer,
  timeoutMs = 5000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: hostname, port: Number(port), ca, servername: 'localhost' });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('secureConnect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw === '')
        return reject(new Error('the server closed the connection without an answer'));
      resolve(parseResponse(raw));
    });
  });
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: split === -1 ? '' : raw.slice(split + 4),
    raw,
  };
}
