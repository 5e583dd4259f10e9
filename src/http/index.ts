// Public surface of src/http: HTTP plumbing shared by the cloak API and the web API.
export {
  createHttpsApp,
  redactingLogger,
  REQUEST_ID_HEADER,
  setRevocationList,
  type AnsweredRequest,
  tlsOptions,
  type HttpsAppOptions,
  type LogOptions,
  type ServerTls,
  type RefusedCertificate,
} from './https-app.ts';
export { acceptGzipBodies } from './body-decoding.ts';
export {
  requireKey,
  identityOf,
  keyOwnerOf,
  type AuthenticationFailure,
  type KeyOwner,
  type TrustedRunRecord,
  type KeyRegistry,
  type KeyStatusResult,
  type KeyStatusName,
} from './client-auth.ts';
export { requireServiceKey, type ServiceKeyRegistry } from './service-auth.ts';
export { parsePagination, type Pagination, type PaginationNames } from './pagination.ts';
export { parseBody } from './validate-body.ts';
export {
  errorAnswer,
  jsonSchema,
  named,
  okAnswer,
  registerOpenApi,
  routeDoc,
  successWith,
  type RouteDoc,
} from './openapi.ts';
export { healthRoutes, type HealthProbe, type Readiness, type ServerOps } from './health-routes.ts';
