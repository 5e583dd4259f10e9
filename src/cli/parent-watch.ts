// Ends the command when the `opencloak` wrapper that started it ends, so no server is orphaned.
import process from 'node:process';

/**
 * bin/opencloak.mjs runs this CLI in a child process with an IPC channel. The channel closes when
 * the wrapper ends, however it ends (kill -9 cannot be caught or forwarded), and the command then
 * stops as if told to with SIGTERM: a server closes its ports and its databases. Without a
 * channel (run directly, or by a test) this does nothing.
 */
export function stopWhenParentEnds(): void {
  if (!process.channel) return;
  // Watching must not keep a finished command alive.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
