// Posts an async /task/run result to the caller's return_url, retrying with backoff on failure.

/** The header naming the run an answer or a delivery is about (its id in the server's logs). */
export const RUN_ID_HEADER = 'x-opencloak-run-id';

export interface DeliveryOptions {
  /** Total attempts, the first included (cloak.deliveryAttempts). */
  attempts: number;
  /** Wait before the second attempt; it doubles after each failure. */
  firstDelayMs: number;
  /** Each attempt gives up after this long. */
  timeoutMs?: number;
  /** Sent in RUN_ID_HEADER, so the receiver can quote it to the operator. */
  runId?: string;
}

/** An async run's answer on its way to the caller's return_url. */
export interface ResultDelivery {
  url: URL;
  /** The caller's QueryAuthToken, sent back to its receiver; never logged. */
  authToken: string;
  body: unknown;
  runId: string;
}

/**
 * Where server mode hands deliveries (distributed/delivery-queue.ts): into the database, so that
 * any API server delivers them and one that stops or dies loses none. Rejects when it cannot
 * take one; the caller then delivers from this process.
 */
export interface DeliveryHandoff {
  send(delivery: ResultDelivery): Promise<void>;
}

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  /** Why the last attempt failed: a status or a network error code, never the token. */
  lastError?: string;
}

/**
 * A delivery counts when the receiver answers 2xx. Anything else (a network error, a timeout, a
 * 5xx, but also a 4xx, which may be a receiver still starting up) is retried until the attempts
 * run out, so a receiver that is briefly down still gets the result.
 */
export async function deliverResult(
  url: URL,
  authToken: string,
  body: unknown,
  options: DeliveryOptions,
): Promise<DeliveryOutcome> {
  const payload = JSON.stringify(body);
  let lastError = '';
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          QueryAuthToken: authToken,
          ...(options.runId !== undefined ? { [RUN_ID_HEADER]: options.runId } : {}),
        },
        body: payload,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      await response.body?.cancel();
      if (response.ok) return { delivered: true, attempts: attempt };
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      lastError = cause?.code ?? (error as Error).name;
    }
    if (attempt < options.attempts) {
      await new Promise((resolve) =>
        setTimeout(resolve, options.firstDelayMs * 2 ** (attempt - 1)),
      );
    }
  }
  return { delivered: false, attempts: options.attempts, lastError };
}
