// The longest gap between ticks of a 1 ms timer: what any other request waited at worst while something ran.

/**
 * Starts watching; `stop()` returns the longest gap in ms. The perf_hooks event-loop-delay
 * histogram missed a 200 ms block (test/attacks/streaming-timing.test.ts), so a timer it is.
 * `stop` lets the timer fire once more first, to see a block that ended just now.
 */
export function watchEventLoop(): { stop(): Promise<number> } {
  let stallMs = 0;
  let tick = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - tick);
    tick = now;
  }, 1);
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(ticker);
      return stallMs;
    },
  };
}
