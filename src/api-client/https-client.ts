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

/** The air's service key (`opencloak service-key create`): certificate and key as PEM, and the CA's. */
export interface PemClientKey {
  certPem: string;
  keyPem: string;
  caCertPem: string;
}

export type ApiClient<Paths extends object> = Client<Paths> & { close(): Promise<void> };

/**
 * Every request presents the key's certificate over one keep-alive connection pool; `close()`
 * ends it. Paths, parameters, bodies and answers are typed from the server's /openapi.json.
 */
function keyedClient<Paths extends object>(
  baseUrl: string,
  key: ClientKey | PemClientKey,
  agentOptions: Agent.Options = {},
): ApiClient<Paths> {
  const connect =
    'pfx' in key
      ? { pfx: key.pfx, passphrase: key.passphrase, ca: key.caCertPem }
      : { cert: key.certPem, key: key.keyPem, ca: key.caCertPem };
  const agent = new Agent({ ...agentOptions, connect });
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

/**
 * The cloak API with the air's service key. No time limits of the client's own: a run may take
 * as long as the cloak's whole-run limit (hours for runs nobody waits for), which the cloak
 * enforces; the air cancels a run by aborting its request.
 */
export function serviceApiClient(baseUrl: string, key: PemClientKey): ApiClient<CloakApiPaths> {
  return keyedClient<CloakApiPaths>(baseUrl, key, { headersTimeout: 0, bodyTimeout: 0 });
}
