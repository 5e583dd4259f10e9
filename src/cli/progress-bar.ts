// A run's progress on stderr: a bar redrawn in place on a terminal, a line per tenth otherwise.
import type { RunProgress } from '../shared/index.ts';

const WIDTH = 30;

export function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  const render = ({ done, total }: RunProgress) => {
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(share * WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
    // A share, not users: progress follows the run's release schedule, not its work
    // (docs/anonymization.md, "Timing"), so its numbers are not a count of users.
    return `${bar} ${`${Math.floor(share * 100)}`.padStart(3)}%`;
  };
  return {
    update(progress: RunProgress): void {
      if (stream.isTTY) {
        stream.write(`\r${render(progress)}`);
        return;
      }
      // Logs and pipes get a line per tenth, not a line per batch.
      const tenth = progress.total > 0 ? Math.floor((10 * progress.done) / progress.total) : 0;
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${render(progress)}\n`);
    },
    end(): void {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
