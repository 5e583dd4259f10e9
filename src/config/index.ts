// Public surface of src/config: the validated, frozen configuration.
export { buildConfig, loadConfig, ConfigError } from './load-config.ts';
export type { OpenCloakConfig, ConfigInput } from './schema.ts';
