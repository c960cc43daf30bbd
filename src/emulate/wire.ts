// Verdict messages to the native engine (native/include/verdict.h) and the
// pipe they travel on.

import { createRequire } from 'node:module';
import type { Verdict } from './types.js';

// Mirrors of verdict.h's VFT_VERDICT_*, compiled against it by test/trace/abi.test.ts.
export const VERDICT_MAGIC = 0x56544656;
export const VERDICT_HEADER_LEN = 32;
export const VERDICT_ACTION = { run: 0, return: 1, openat: 2 } as const;
const pad8 = (n: number): number => (n + 7) & ~7;

/** One verdict message, in the engine's (this host's) byte order. */
export function encodeVerdict(v: Verdict, le = true): Uint8Array {
  const writes = v.action === 'return' ? v.writes : [];
  const path = v.action === 'openat' ? Buffer.from(v.path, 'utf8') : Buffer.alloc(0);
  let body = 0;
  for (const w of writes) body += 16 + pad8(w.bytes.length);
  body += pad8(path.length);
  const out = new Uint8Array(VERDICT_HEADER_LEN + body);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, VERDICT_MAGIC, le);
  dv.setUint32(4, VERDICT_ACTION[v.action], le);
  dv.setBigInt64(8, BigInt(v.action === 'return' ? v.ret : 0), le);
  dv.setUint32(16, writes.length, le);
  dv.setUint32(20, path.length, le);
  dv.setUint32(24, v.action === 'openat' ? v.flags : 0, le);
  dv.setUint32(28, body, le);
  let o = VERDICT_HEADER_LEN;
  for (const w of writes) {
    dv.setBigUint64(o, w.addr, le);
    dv.setUint32(o + 8, w.bytes.length, le);
    out.set(w.bytes, o + 16);
    o += 16 + pad8(w.bytes.length);
  }
  out.set(path, o);
  return out;
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
