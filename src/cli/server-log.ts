// How `opencloak start` logs: the configured level and access log, written off the request path.
import pino from 'pino';
import type { OpenCloakConfig } from '../config/index.ts';
import type { LogOptions } from '../http/index.ts';

/**
 * Lines go to stdout through an asynchronous pino destination: a request hands its line over
 * and goes on, and writes that pile up while one is under way leave in one system call (a
 * synchronous write per line cost the results API a share of its throughput on a busy machine).
 * pino writes what is left when the process exits.
 */
export function serverLogOptions(config: Readonly<OpenCloakConfig>): LogOptions {
  return {
    level: config.log.level,
    access: config.log.access,
    accessSample: config.log.accessSample,
    stream: pino.destination({ dest: 1, sync: false }),
  };
}
