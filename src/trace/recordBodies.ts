// Turns one complete IOCTL, PROCESS or END record into its TraceRecord, after
// checking its lengths against the record's own. Separate from the parser's
// state machine, which only finds where records start and end: this is what
// is in them.

import {
  type EndReason,
  type EndRecord,
  MAX_PAYLOAD_CAP,
  type IoctlRecord,
  type ProcessEventKind,
  type ProcessRecord,
  type RuleKind,
} from './events.js';
import { END, IOCTL, PROCESS } from './layout.js';
import { END_FIXED_LEN, IOCTL_FIXED_LEN, PROCESS_FIXED_LEN } from './recordingFormat.js';
import { RecordingError } from './recordingErrors.js';
import { IoctlRecordView } from './recordView.js';

const IO = IOCTL.at;
const PR = PROCESS.at;
const EN = END.at;

/** The fd path bytes of the IOCTL (or PENDING) record at `at` in `b` (a view, not a copy). */
export function ioctlPathBytes(b: Uint8Array, at: number, le: boolean): Uint8Array {
  const len = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at + IO.path_len, le);
  return b.subarray(at + IOCTL_FIXED_LEN, at + IOCTL_FIXED_LEN + len);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** fd paths repeat from call to call: remember the last few by their bytes. */
const PATH_CACHE_SIZE = 16;
const pathCacheBytes: Uint8Array[] = [];
const pathCacheText: string[] = [];
let pathCacheNext = 0;

function decodeText(b: Uint8Array, start: number, len: number): string {
  if (len === 0) return '';
  if (len > 128) return utf8.decode(b.subarray(start, start + len));
  outer: for (let k = 0; k < pathCacheBytes.length; k++) {
    const c = pathCacheBytes[k] as Uint8Array;
    if (c.length !== len) continue;
    for (let i = len - 1; i >= 0; i--) if (c[i] !== b[start + i]) continue outer;
    return pathCacheText[k] as string;
  }
  const text = utf8.decode(b.subarray(start, start + len));
  pathCacheBytes[pathCacheNext] = new Uint8Array(b.subarray(start, start + len)); // a copy: Buffer's slice() is a view pinning the read
  pathCacheText[pathCacheNext] = text;
  pathCacheNext = (pathCacheNext + 1) % PATH_CACHE_SIZE;
  return text;
}

/**
 * Reads records of one recording (one byte order). Each method takes the
 * record at `p` in `b`/`dv`, its length `len` and flags, and `at`, its stream
 * offset, which errors name.
 */
export class RecordBodyReader {
  /**
   * `views`: IOCTL records are IoctlRecordViews (64-bit fields read on access,
   * no BigInt per field up front).
   */
  constructor(
    private readonly le: boolean,
    private readonly views: boolean,
  ) {}

  /** Checks an IOCTL record's payload lengths (from its fixed part) against the capture cap and its length. */
  ioctlLengths(dv: DataView, p: number, len: number, at: number): void {
    const le = this.le;
    if (len < IOCTL_FIXED_LEN) throw new RecordingError(at, `IOCTL record too short (${len} bytes)`);
    const inLen = dv.getUint32(p + IO.in_len, le);
    const outLen = dv.getUint32(p + IO.out_len, le);
    if (inLen > MAX_PAYLOAD_CAP || outLen > MAX_PAYLOAD_CAP) {
      const [name, v] = inLen > MAX_PAYLOAD_CAP ? ['in_len', inLen] : ['out_len', outLen];
      throw new RecordingError(at, `IOCTL ${name} ${v} is above the ${MAX_PAYLOAD_CAP}-byte capture cap`);
    }
    const need = IOCTL_FIXED_LEN + dv.getUint16(p + IO.path_len, le) + inLen + outLen;
    if (need > len) {
      throw new RecordingError(at, `IOCTL payload (${need} bytes) runs past the record length ${len}`);
    }
  }

  ioctl(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): IoctlRecord {
    const le = this.le;
    this.ioctlLengths(dv, p, len, at);
    const inLen = dv.getUint32(p + IO.in_len, le);
    const outLen = dv.getUint32(p + IO.out_len, le);
    const pathLen = dv.getUint16(p + IO.path_len, le);
    const inFault = dv.getUint32(p + IO.in_fault, le);
    const outFault = dv.getUint32(p + IO.out_fault, le);
    const pathAt = p + IOCTL_FIXED_LEN;
    const inAt = pathAt + pathLen;
    const outAt = inAt + inLen;
    if (this.views) {
      return new IoctlRecordView(
        dv, p, le, at, flags, dv.getUint32(p + IO.pid, le), dv.getUint32(p + IO.tid, le), dv.getUint32(p + IO.want_len, le),
        inFault === 0xffffffff ? null : inFault, outFault === 0xffffffff ? null : outFault, dv.getUint8(p + IO.rule_kind) as RuleKind,
        decodeText(b, pathAt, pathLen), b, inAt, inLen, outLen,
      );
    }
    return {
      type: 'ioctl',
      offset: at,
      flags,
      pid: dv.getUint32(p + IO.pid, le),
      tid: dv.getUint32(p + IO.tid, le),
      tEntry: dv.getBigUint64(p + IO.t_entry, le),
      tExit: dv.getBigUint64(p + IO.t_exit, le),
      fd: dv.getBigUint64(p + IO.fd, le),
      request: dv.getBigUint64(p + IO.request, le),
      arg: dv.getBigUint64(p + IO.arg, le),
      ret: dv.getBigInt64(p + IO.ret, le),
      wantLen: dv.getUint32(p + IO.want_len, le),
      inFault: inFault === 0xffffffff ? null : inFault,
      outFault: outFault === 0xffffffff ? null : outFault,
      ruleKind: dv.getUint8(p + IO.rule_kind) as RuleKind,
      fdPath: decodeText(b, pathAt, pathLen),
      entry: b.subarray(inAt, inAt + inLen),
      exit: b.subarray(outAt, outAt + outLen),
    };
  }

  process(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): ProcessRecord {
    const le = this.le;
    const text = this.text(b, dv, p, len, at, 'PROCESS', PROCESS_FIXED_LEN, PR.text_len);
    return {
      type: 'process',
      offset: at,
      kind: flags as ProcessEventKind,
      pid: dv.getUint32(p + PR.pid, le),
      tid: dv.getUint32(p + PR.tid, le),
      ts: dv.getBigUint64(p + PR.ts, le),
      value: dv.getInt32(p + PR.value, le),
      other: dv.getUint32(p + PR.other, le),
      text,
    };
  }

  end(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): EndRecord {
    const le = this.le;
    const text = this.text(b, dv, p, len, at, 'END', END_FIXED_LEN, EN.text_len);
    return {
      type: 'end',
      offset: at,
      reason: flags as EndReason,
      status: dv.getInt32(p + EN.status, le),
      dropped: dv.getUint32(p + EN.dropped, le),
      events: dv.getBigUint64(p + EN.events, le),
      text,
    };
  }

  /** The text after a record's fixed part (its u16 length at `lenAt`), checked against the record length. */
  private text(b: Uint8Array, dv: DataView, p: number, len: number, at: number, kind: string, fixed: number, lenAt: number): string {
    if (len < fixed) throw new RecordingError(at, `${kind} record too short (${len} bytes)`);
    const textLen = dv.getUint16(p + lenAt, this.le);
    if (fixed + textLen > len) {
      throw new RecordingError(at, `${kind} text (${textLen} bytes) runs past the record length ${len}`);
    }
    return decodeText(b, p + fixed, textLen);
  }
}
