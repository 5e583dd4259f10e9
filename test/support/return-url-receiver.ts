// A local return_url for async results: answers each post with the status it is told, and keeps what it was sent.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  status: number;
  headers: IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `status(n)` answers the n-th post (0 first). */
export async function startReturnUrlReceiver(status: (attempt: number) => number) {
  const seen: ReceivedPost[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const answer = status(seen.length);
      seen.push({ status: answer, headers: request.headers, body: JSON.parse(text) });
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/results`),
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
