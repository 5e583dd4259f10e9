// A streaming pass that fails in the background is reported, not swallowed (REVIEW finding 8).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { buildConfig } from '../../config/index.ts';
import { openCloak, type Cloak } from '../index.ts';

let cloak: Cloak | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cloak?.streaming.stop();
  await cloak?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('tells the error of a failed background pass to onError, and goes on with the next pass', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-streaming-fail-'));
  cloak = await openCloak(buildConfig({ dataDir: dir }));
  let passes = 0;
  // A pass that fails as a whole, as one whose database went away would.
  cloak.streaming.process = () => {
    passes++;
    return Promise.reject(new Error(`pass ${passes} failed`));
  };
  const errors: string[] = [];
  await new Promise<void>((resolve) => {
    cloak!.streaming.start(10, (error) => {
      errors.push((error as Error).message);
      if (errors.length === 2) resolve();
    });
  });
  expect(errors).toEqual(['pass 1 failed', 'pass 2 failed']);
});
