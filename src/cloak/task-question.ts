// A task's question: the hash of what it runs and over which data, part of every bucket's noise.
import { createHash } from 'node:crypto';

/**
 * SHA-256 of the code the sandbox runs and the checked data selection. The anonymizer mixes it
 * into each bucket's noise seed (src/anonymizer/seeds.ts) and the budget into each bucket's
 * hash: the same task over the same data answers the same (sticky, and free), and any other task
 * draws other noise, even for the same label over the same users. Otherwise a second task
 * answering exactly as a first said that its users were the same ones.
 */
export function taskQuestion(task: { code: string; prefetch: unknown }): Uint8Array {
  return createHash('sha256')
    .update(JSON.stringify(['opencloak/question/v1', task.code, task.prefetch]))
    .digest();
}
