// Types of wire.mjs, which the sandbox process (plain JavaScript) shares with the host side.

export declare const FRAME: Readonly<{
  init: 'I';
  ready: 'K';
  compileError: 'C';
  fatal: 'F';
  run: 'R';
  lookup: 'L';
  lookupAnswer: 'V';
  done: 'D';
  runBatch: 'B';
  batchDone: 'E';
}>;

export declare const WATCHDOG_MARKER: string;

/** Separates the JSON texts of a batch frame (a line feed, which JSON.stringify never writes). */
export declare const BATCH_SEPARATOR: '\n';

export interface Frame {
  /** One ASCII letter, a value of FRAME. */
  type: string;
  payload: string;
}

export declare function writeFrame(fd: number, type: string, payload: string): void;
/** `pollFd`: a non-blocking descriptor on the same pipe, polled briefly before blocking on `fd`. */
export declare function readFrame(fd: number, pollFd?: number): Frame | undefined;
