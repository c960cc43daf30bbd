// Notices from the engine's seccomp listener (native/include/verdict.h,
// "Notices"): a call to answer, or a process forked before its first call.
// Mirrors of verdict.h's VFT_NOTICE_*, compiled against it by
// test/trace/abi.test.ts.

import type { EmuCall } from './types.js';

export const NOTICE_HEADER_LEN = 64;
export const NOTICE_KIND = { call: 1, fork: 2 } as const;
export const NOTICE_NO_FAULT = 0xffffffff;
/** The fd path's room in a notice (struct call's path buffer). */
export const NOTICE_PATH_MAX = 512;

/** struct vft_notice: each field's offset and size (checked against the C struct by test/trace/abi.test.ts). */
export const NOTICE_FIELDS = {
  kind: [0, 4], len: [4, 4], pid: [8, 4], tid: [12, 4], parent: [16, 4], in_len: [20, 4], in_fault: [24, 4],
  path_len: [28, 4], fd: [32, 8], request: [40, 8], arg: [48, 8], file: [56, 4], reserved: [60, 4],
} as const satisfies Record<string, readonly [number, number]>;

const NOTICE_AT = {
  kind: NOTICE_FIELDS.kind[0], pid: NOTICE_FIELDS.pid[0], tid: NOTICE_FIELDS.tid[0], parent: NOTICE_FIELDS.parent[0],
  inLen: NOTICE_FIELDS.in_len[0], inFault: NOTICE_FIELDS.in_fault[0], pathLen: NOTICE_FIELDS.path_len[0],
  fd: NOTICE_FIELDS.fd[0], request: NOTICE_FIELDS.request[0], arg: NOTICE_FIELDS.arg[0], file: NOTICE_FIELDS.file[0],
} as const;

export type Notice = { kind: 'call'; call: EmuCall } | { kind: 'fork'; child: number; parent: number };

const pad8 = (n: number): number => (n + 7) & ~7;
const NO_BYTES = new Uint8Array(0);

/**
 * Reads the notices the engine writes into one buffer, call after call
 * (in this host's byte order). The fd path is decoded once per distinct
 * path: a client's calls go to a handful of files.
 */
export class NoticeReader {
  readonly msg: Buffer;
  private readonly dv: DataView;
  private lastPath = Buffer.alloc(0);
  private lastPathText = '';

  constructor(capacity: number, private readonly le: boolean) {
    this.msg = Buffer.alloc(capacity);
    this.dv = new DataView(this.msg.buffer, this.msg.byteOffset, this.msg.byteLength);
  }

  /** The notice the engine last wrote into `msg`. */
  read(): Notice {
    const { dv, le, msg } = this;
    const kind = dv.getUint32(NOTICE_AT.kind, le);
    const pid = dv.getUint32(NOTICE_AT.pid, le);
    if (kind === NOTICE_KIND.fork) return { kind: 'fork', child: pid, parent: dv.getUint32(NOTICE_AT.parent, le) };
    if (kind !== NOTICE_KIND.call) throw new Error(`unknown notice kind ${kind}`);
    const pathLen = dv.getUint32(NOTICE_AT.pathLen, le);
    const inLen = dv.getUint32(NOTICE_AT.inLen, le);
    const inFault = dv.getUint32(NOTICE_AT.inFault, le);
    const at = NOTICE_HEADER_LEN + pad8(pathLen);
    const file = dv.getUint32(NOTICE_AT.file, le);
    const call: EmuCall = {
      pid,
      tid: dv.getUint32(NOTICE_AT.tid, le),
      fd: dv.getInt32(NOTICE_AT.fd + (le ? 0 : 4), le),
      fdPath: this.path(pathLen),
      request: dv.getUint32(NOTICE_AT.request + (le ? 0 : 4), le),
      arg: dv.getBigUint64(NOTICE_AT.arg, le),
      // The kernel may keep what it is given: a copy, not a view of the reused buffer.
      entry: inLen === 0 ? NO_BYTES : msg.subarray(at, at + inLen).slice(),
      inFault: inFault === NOTICE_NO_FAULT ? null : inFault,
    };
    if (file !== 0) call.file = file;
    return { kind: 'call', call };
  }

  private path(len: number): string {
    const { msg, lastPath } = this;
    let same = lastPath.length === len;
    for (let i = 0; same && i < len; i++) same = msg[NOTICE_HEADER_LEN + i] === lastPath[i];
    if (!same) {
      this.lastPath = Buffer.from(msg.subarray(NOTICE_HEADER_LEN, NOTICE_HEADER_LEN + len));
      this.lastPathText = this.lastPath.toString('utf8');
    }
    return this.lastPathText;
  }
}
