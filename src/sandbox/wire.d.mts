// Types of wire.mjs, which the sandbox process (plain JavaScript) shares with the host side.

export declare const FRAME: Readonly<{
  init: 'I';
  ready: 'K';
  compileError: 'C';
  fatal: 'F';
  lookup: 'L';
  lookupAnswer: 'V';
  runBatch: 'B';
  batchDone: 'E';
}>;

export declare const WATCHDOG_MARKER: string;

/** Bytes before a frame's payload: its length (4, little-endian) and its type (1). */
export declare const HEADER_BYTES: 5;

/** Separates the JSON texts of a batch frame (a line feed, which JSON.stringify never writes). */
export declare const BATCH_SEPARATOR: '\n';

export interface Frame {
  /** One ASCII letter, a value of FRAME. */
  type: string;
  payload: string;
}

export declare function encodeFrame(type: string, payload: string): Buffer;
/** The sandbox process's blocking write. */
export declare function writeFrame(fd: number, type: string, payload: string): void;
/** The sandbox process's blocking read; undefined at end of file. */
export declare function readFrame(fd: number): Frame | undefined;
