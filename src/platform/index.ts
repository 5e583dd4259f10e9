// Public surface of src/platform: open, start, lock, back up and restore the embedded default.
export { openPlatform, type OpenedPlatform } from './open-platform.ts';
export { startPlatform, type RunningPlatform, type StartOptions } from './start-platform.ts';
export { startAirOnly, type AirOnlyOptions, type RunningAir } from './start-air.ts';
export { startCloakOnly, type RunningCloak } from './start-cloak.ts';
export {
  createServiceKey,
  listServiceKeys,
  readServiceKeyFile,
  revokeServiceKey,
  type ServiceKeyRecord,
} from './service-keys.ts';
export { openInstallationPki } from './open-platform.ts';
export {
  backupDataDir,
  restoreDataDir,
  readManifest,
  type BackupManifest,
  type RestoreOptions,
} from './backup.ts';
export { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
// The demo gives its analyst a site login; the demo may import the platform, not the air.
export { setLoginPassword } from '../air/index.ts';
export { openServerMode, startWorker, type ServerMode } from './server-mode.ts';
