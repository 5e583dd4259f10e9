// The embedded default's CloakPort: the air's calls go straight to the cloak in this process.
import type { CloakPort } from '../air/index.ts';
import { airService } from '../cloak/air-service.ts';
import type { Cloak } from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';

/**
 * The cloak's own air service (cloak/air-service.ts), which the cloak API also serves on
 * /service to an air on another host: both modes answer from one implementation.
 */
export function inProcessCloakPort(cloak: Cloak, config: Readonly<OpenCloakConfig>): CloakPort {
  return airService(cloak, config);
}
