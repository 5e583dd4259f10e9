// Public surface of src/api-client: typed clients of the web REST API and the cloak API, for
// scripts and tools outside the servers (the demo uses them). It imports no other part of src/:
// it knows the servers only through their OpenAPI descriptions.
export {
  cloakApiClient,
  serviceApiClient,
  webApiClient,
  type ApiClient,
  type ClientKey,
  type PemClientKey,
} from './https-client.ts';
export type { paths as WebApiPaths } from './web-api.generated.ts';
export type { paths as CloakApiPaths } from './cloak-api.generated.ts';
import type { components as WebApiComponents } from './web-api.generated.ts';
import type { components as CloakApiComponents } from './cloak-api.generated.ts';

/** The web REST API's named shapes (components.schemas): `WebApiShapes['Task']`, `['Result']`, ... */
export type WebApiShapes = WebApiComponents['schemas'];
/** The cloak API's named shapes: `CloakApiShapes['Table']`, `['TaskRunAnswer']`, ... */
export type CloakApiShapes = CloakApiComponents['schemas'];
