// One log line per answered request, configurable: all, errors only, or off, with successes sampled.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

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
 * fastify's request log lines, replaced: one line when the answer has been sent instead of two
 * ("incoming request" and "request completed"), so neither the line nor the choice to write it
 * delays an answer. Given to fastify as its `logController`.
 */
export class AccessLog extends LogController {
  readonly #mode: AccessLogMode;
  readonly #sample: number;
  readonly #random: () => number;

  constructor(options: AccessLogOptions) {
    super({ disableRequestLogging: options.mode === 'off' });
    this.#mode = options.mode;
    this.#sample = options.sample;
    this.#random = options.random ?? Math.random;
  }

  override incomingRequest(): void {
    // The one line is written when the request ends.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const status = reply.statusCode;
    const failed = Boolean(error) || status >= FIRST_ERROR_STATUS;
    if (!failed && (this.#mode !== 'all' || this.#random() >= this.#sample)) return;
    // The path without its query: a query may carry more than an operator needs to see.
    request.log[failed ? 'warn' : 'info'](
      {
        method: request.method,
        path: request.url.split('?', 1)[0],
        status,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  }
}
