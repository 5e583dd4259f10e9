// A typed client of the web REST API or the cloak API (openapi-fetch over undici) with a key.
import createClient, { type Client } from 'openapi-fetch';
import { Agent, fetch, Request } from 'undici';
import type { paths as CloakApiPaths } from './cloak-api.generated.ts';
import type { paths as WebApiPaths } from './web-api.generated.ts';

/** A key as `opencloak key create` writes it (.pfx and its password) and the installation's CA. */
export interface ClientKey {
  pfx: Buffer;
  passphrase: string;
  caCertPem: string;
}

export type ApiClient<Paths extends object> = Client<Paths> & { close(): Promise<void> };

/**
 * Every request presents the key's certificate over one keep-alive connection pool; `close()`
 * ends it. Paths, parameters, bodies and answers are typed from the server's /openapi.json.
 */
function keyedClient<Paths extends object>(baseUrl: string, key: ClientKey): ApiClient<Paths> {
  const agent = new Agent({
    connect: { pfx: key.pfx, passphrase: key.passphrase, ca: key.caCertPem },
  });
  const client = createClient<Paths>({
    baseUrl,
    // undici's own fetch and Request, so that its Agent (with the certificate) is understood.
    fetch: fetch as unknown as typeof globalThis.fetch,
    Request: Request as unknown as typeof globalThis.Request,
    requestInitExt: { dispatcher: agent },
  });
  return Object.assign(client, { close: () => agent.close() });
}

export function webApiClient(baseUrl: string, key: ClientKey): ApiClient<WebApiPaths> {
  return keyedClient<WebApiPaths>(baseUrl, key);
}

export function cloakApiClient(baseUrl: string, key: ClientKey): ApiClient<CloakApiPaths> {
  return keyedClient<CloakApiPaths>(baseUrl, key);
}
