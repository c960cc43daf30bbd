// How an unreadable recording is told: the corruption error with its stream
// offset, the message for a recording cut short, and the checks on a file
// before any byte is parsed. Separate from the parser so commands can check a
// file and word their errors without loading the parser.

import { closeSync, openSync, statSync } from 'node:fs';

export const NOT_A_RECORDING_EMPTY = 'empty: not a vfiotrace recording';

export class RecordingError extends Error {
  constructor(
    /** Byte offset in the stream of the header/record that is wrong. */
    readonly offset: number,
    readonly reason: string,
    /** The reason alone is the message (the input is not a recording at all, rather than a corrupt one). */
    plain = false,
  ) {
    super(plain ? reason : `recording corrupt at byte ${offset}: ${reason}`);
    this.name = 'RecordingError';
  }
}

/** What a recording that stops without its END record is told with: where it stops. */
export function incompleteMessage(offset: number): string {
  return `incomplete recording: it ends at byte ${offset} without an END record (the tracer was stopped or the file was cut short)`;
}

/**
 * Why `path` cannot be read as a recording before any byte is parsed (missing,
 * a directory, empty, unreadable), as the words after "FILE: " in a one-line
 * error; null if it may be read. Other kinds of files (pipes, devices) are
 * left to the reader.
 */
export function recordingFileProblem(path: string): string | null {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'is a directory';
    if (st.isFile() && st.size === 0) return NOT_A_RECORDING_EMPTY;
    closeSync(openSync(path, 'r'));
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return `cannot read (${code ?? String(e)})`;
  }
}
