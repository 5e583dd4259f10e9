// Public surface of src/ops: metrics, readiness and graceful shutdown, wired by src/platform.
export { METRIC_PREFIX, PlatformMetrics } from './metrics.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { ReadinessChecks, type ReadinessCheck } from './readiness.ts';
export { gracefulShutdown, type ShutdownSteps } from './shutdown.ts';
