// Runs the suite's slowest files first, also on a fresh clone, where vitest has no durations yet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each of the slowest files took in a full quiet `npm test` (6 December 2026). Vitest
 * orders files by the durations it cached from earlier runs, and without them (CI's fresh clone)
 * by file size, largest first: then the timed attacks, small files that wait minutes for release
 * points, started last and ran on past everything else. Refresh the list when it drifts.
 */
const EXPECTED: Record<string, number> = JSON.parse(
  readFileSync(new URL('../slow-files.json', import.meta.url), 'utf8'),
);

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const root = this.ctx.config.root;
    const seconds = (file: TestSpecification) =>
      EXPECTED[path.relative(root, file.moduleId).split(path.sep).join('/')] ?? 0;
    // A stable sort: the listed files first, longest first; the rest in vitest's own order.
    return [...ordered].sort((a, b) => seconds(b) - seconds(a));
  }
}
