// One log line per answered request, configurable: all, errors only, or off, with successes sampled.
import type { FastifyInstance } from 'fastify';

export type AccessLogMode = 'all' | 'errors' | 'off';

export interface AccessLogOptions {
  mode: AccessLogMode;
  /** With mode `all`, the share of successful (< 400) answers that are logged. */
  sample: number;
  /** For tests: a number in [0, 1) per answer; Math.random by default. */
  random?: () => number;
}

/** Status codes from here on are errors: logged in modes `all` and `errors`, never sampled. */
const FIRST_ERROR_STATUS = 400;

/**
 * Replaces fastify's two lines per request ("incoming request", "request completed", turned off
 * with disableRequestLogging) by one, written after the answer has been sent (onResponse), so
 * that neither the line nor the decision to write it delays an answer.
 */
export function installAccessLog(app: FastifyInstance, options: AccessLogOptions): void {
  if (options.mode === 'off') return;
  const random = options.random ?? Math.random;
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const error = status >= FIRST_ERROR_STATUS;
    const logged = error || (options.mode === 'all' && random() < options.sample);
    if (logged) {
      // The path without its query: a query may carry more than an operator needs to see.
      request.log[error ? 'warn' : 'info'](
        {
          method: request.method,
          path: request.url.split('?', 1)[0],
          status,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
    }
    done();
  });
}
