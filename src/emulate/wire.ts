// Verdict messages to the native engine (native/include/verdict.h) and the
// pipe they travel on.

import { createRequire } from 'node:module';
import type { MemWrite, Verdict } from './types.js';

// Mirrors of verdict.h's VFT_VERDICT_*, compiled against it by test/trace/abi.test.ts.
export const VERDICT_MAGIC = 0x56544656;
export const VERDICT_HEADER_LEN = 32;
export const VERDICT_ACTION = { run: 0, return: 1, openat: 2 } as const;
const pad8 = (n: number): number => (n + 7) & ~7;

const NO_WRITES: readonly MemWrite[] = [];

/**
 * Writes verdict messages into one buffer, reused from call to call: the
 * answering loop sends one per emulated call, and a fresh buffer each time
 * would cost more than the rest of the encoding.
 */
export class VerdictEncoder {
  private buf = Buffer.alloc(4096);
  private dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);

  constructor(private readonly le: boolean) {}

  /** The message for `v`, in the engine's (this host's) byte order; valid until the next call. */
  encode(v: Verdict): Uint8Array {
    const writes = v.action === 'return' ? v.writes : NO_WRITES;
    const pathLen = v.action === 'openat' ? Buffer.byteLength(v.path, 'utf8') : 0;
    let body = pad8(pathLen);
    for (const w of writes) body += 16 + pad8(w.bytes.length);
    const len = VERDICT_HEADER_LEN + body;
    if (len > this.buf.length) {
      this.buf = Buffer.alloc(Math.max(len, this.buf.length * 2));
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    const dv = this.dv;
    const le = this.le;
    const ret = v.action === 'return' ? v.ret : 0;
    dv.setUint32(0, VERDICT_MAGIC, le);
    dv.setUint32(4, VERDICT_ACTION[v.action], le);
    // s64 ret as two words: no BigInt per call
    dv.setUint32(le ? 8 : 12, ret >>> 0, le);
    dv.setInt32(le ? 12 : 8, Math.floor(ret / 2 ** 32), le);
    dv.setUint32(16, writes.length, le);
    dv.setUint32(20, pathLen, le);
    dv.setUint32(24, v.action === 'openat' ? v.flags : 0, le);
    dv.setUint32(28, body, le);
    let o = VERDICT_HEADER_LEN;
    for (const w of writes) {
      dv.setBigUint64(o, w.addr, le);
      dv.setUint32(o + 8, w.bytes.length, le);
      dv.setUint32(o + 12, 0, le);
      this.buf.set(w.bytes, o + 16);
      o += 16 + pad8(w.bytes.length);
    }
    if (v.action === 'openat') this.buf.write(v.path, o, 'utf8');
    return this.buf.subarray(0, len);
  }
}

/** One verdict message, in the engine's (this host's) byte order, in a buffer of its own. */
export function encodeVerdict(v: Verdict, le = true): Uint8Array {
  return new VerdictEncoder(le).encode(v).slice();
}

interface Libc {
  pipe2(fds: Int32Array, flags: number): number;
}
let libc: Libc | null = null;

/** A close-on-exec pipe (the traced command must not inherit it): [read, write]. */
export function verdictPipe(): [number, number] {
  if (!libc) {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(p: string): { func(sig: string): unknown } };
    const lib = koffi.load('libc.so.6');
    libc = { pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)') as Libc['pipe2'] };
  }
  const fds = new Int32Array(2);
  const O_CLOEXEC = 0o2000000;
  if (libc.pipe2(fds, O_CLOEXEC) !== 0) throw new Error('cannot create the verdict pipe');
  return [fds[0]!, fds[1]!];
}
