// Buffered output: renderers append strings, which go out in large chunks
// (one write per ~64 KiB), honouring the destination's back-pressure.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { writeFailure } from '../trace/ioError.js';
import { errnoMessage } from './names.js';

const CHUNK = 1 << 16;
const SCRATCH_BYTES = 1 << 19;
let scratch: Buffer | undefined;

/** "cannot write PATH: No such file or directory" from a failed open. */
export function cannotWrite(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `cannot write ${path}: ${(code !== undefined ? errnoMessage(code) : undefined) ?? code ?? String(e)}`;
}

/**
 * Creates (or truncates) `path` as an output file will be, so a file that
 * cannot be written is refused before anything starts. Returns the one-line
 * reason, or null.
 */
export function writableProblem(path: string): string | null {
  try {
    closeSync(openSync(path, 'w'));
    return null;
  } catch (e) {
    return cannotWrite(path, e);
  }
}

export class Output {
  private buf = '';
  private broken = false;
  private readonly fd: number | null;
  private readonly stream: Writable | null;

  private constructor(fd: number | null, stream: Writable | null, private readonly name = '') {
    this.fd = fd;
    this.stream = stream;
    // A reader that went away (`| head`) ends our output, not the process.
    stream?.on('error', () => {
      this.broken = true;
    });
  }

  /** Writes to a file (created or truncated). Throws a plain Error on failure. */
  static file(path: string, name = path): Output {
    try {
      return new Output(openSync(path, 'w'), null, name);
    } catch (e) {
      throw new Error(cannotWrite(path, e));
    }
  }

  static stream(stream: Writable): Output {
    return new Output(null, stream);
  }

  /** The reader went away (EPIPE): further output is dropped. */
  get closed(): boolean {
    return this.broken;
  }

  write(s: string): void {
    this.buf += s;
  }

  /** Sends the buffer if it is big enough; resolves when the destination can take more. */
  async flushIfFull(): Promise<void> {
    if (this.buf.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const s = this.buf;
    this.buf = '';
    if (s === '' || this.broken) return;
    if (this.fd !== null) {
      // Encoded into one reused buffer (no new buffer per flush) when it surely fits: UTF-8 takes at most 3 bytes per UTF-16 unit.
      let b: Buffer;
      let n: number;
      if (s.length * 3 <= SCRATCH_BYTES) {
        b = scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
        n = b.write(s, 0, 'utf8');
      } else {
        b = Buffer.from(s, 'utf8');
        n = b.length;
      }
      try {
        for (let off = 0; off < n; ) off += writeSync(this.fd, b, off, n - off);
      } catch (e) {
        // Once: the destination is unusable (a full disk), and the error names it.
        this.broken = true;
        throw new Error(writeFailure(this.name, e));
      }
    } else if (this.stream) {
      if (!this.stream.write(s)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.stream?.off('drain', done);
            this.stream?.off('error', done);
            this.stream?.off('close', done);
            resolve();
          };
          this.stream?.once('drain', done).once('error', done).once('close', done);
        });
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== null) closeSync(this.fd);
  }
}
