// Posts JSON to the cloak API over HTTPS with a client certificate, as a data owner's script would.
import https from 'node:https';

export interface ClientKey {
  pfx: Buffer;
  passphrase: string;
  caCertPem: string;
}

export function postJson(
  url: string,
  body: unknown,
  key: ClientKey,
  agent?: https.Agent,
): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        ...(agent ? { agent } : { pfx: key.pfx, passphrase: key.passphrase, ca: key.caCertPem }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((response.statusCode ?? 500) >= 400) {
            reject(new Error(`${url} answered ${response.statusCode}: ${text}`));
          } else {
            resolve(JSON.parse(text));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export function keepAliveAgent(key: ClientKey): https.Agent {
  return new https.Agent({
    keepAlive: true,
    pfx: key.pfx,
    passphrase: key.passphrase,
    ca: key.caCertPem,
  });
}
