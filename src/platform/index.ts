// Public surface of src/platform: open or start the embedded default installation.
export { openPlatform, type OpenedPlatform } from './open-platform.ts';
export { startPlatform, type RunningPlatform, type StartOptions } from './start-platform.ts';
