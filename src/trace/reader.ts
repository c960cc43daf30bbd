// Streaming parser for the recording format (docs/recording-format.md).
// Chunks may split records anywhere; every complete record is returned before
// any error, and errors name the stream offset of what was wrong.

import { closeSync, openSync, statSync } from 'node:fs';
import {
  type ByteOrder,
  type EndRecord,
  EndReason,
  MAX_PAYLOAD_CAP,
  type IoctlRecord,
  type ProcessEventKind,
  type ProcessRecord,
  type RecordingHeader,
  type RuleKind,
  type TraceRecord,
} from './events.js';
import { IoctlRecordView } from './recordView.js';
import { END, IOCTL, PROCESS, RECORD_HEADER } from './layout.js';

export const MAGIC = 'VFTRACE1';
export const FORMAT_VERSION = 1;
export const HEADER_FIXED_LEN = 40;
/** The records' fixed parts (layout.ts). */
export const IOCTL_FIXED_LEN = IOCTL.size;
export const PROCESS_FIXED_LEN = PROCESS.size;
export const END_FIXED_LEN = END.size;
const HD = RECORD_HEADER.at;
const IO = IOCTL.at;
const PR = PROCESS.at;
const EN = END.at;
export const RECORD_IOCTL = 1;
export const RECORD_PROCESS = 2;
export const RECORD_END = 3;

/** The fd path bytes of the IOCTL (or PENDING) record at `at` in `b` (a view, not a copy). */
export function ioctlPathBytes(b: Uint8Array, at: number, le: boolean): Uint8Array {
  const len = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at + IO.path_len, le);
  return b.subarray(at + IOCTL_FIXED_LEN, at + IOCTL_FIXED_LEN + len);
}

const PATH_LEN_MAX = 0xffff;
const TEXT_LEN_MAX = 0xffff;
const round8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The longest IOCTL (or PENDING) record the format allows: a 64 KiB path and both payloads at the capture cap. */
export const MAX_IOCTL_RECORD_LEN = round8(IOCTL_FIXED_LEN + PATH_LEN_MAX + 2 * MAX_PAYLOAD_CAP);
/** Upper bound on any record's length (the longest type's); anything larger is corruption. */
export const MAX_RECORD_LEN = MAX_IOCTL_RECORD_LEN;
const RECORD_PENDING = 4;

/** The longest record of each known type: a length beyond it is refused before the record's bytes arrive. */
const MAX_LEN_BY_TYPE: Record<number, { name: string; max: number }> = {
  [RECORD_IOCTL]: { name: 'IOCTL', max: MAX_IOCTL_RECORD_LEN },
  [RECORD_PROCESS]: { name: 'PROCESS', max: round8(PROCESS_FIXED_LEN + TEXT_LEN_MAX) },
  [RECORD_END]: { name: 'END', max: round8(END_FIXED_LEN + TEXT_LEN_MAX) },
  [RECORD_PENDING]: { name: 'PENDING', max: MAX_IOCTL_RECORD_LEN },
};

const NOT_A_RECORDING_EMPTY = 'empty: not a vfiotrace recording';

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

const ARCHES: Record<number, string> = {
  0xc000003e: 'x86_64',
  0xc00000b7: 'aarch64',
  0xc0000015: 'ppc64le',
  0x80000015: 'ppc64',
  0xc00000f3: 'riscv64',
  0x40000003: 'i386',
  0x40000028: 'arm',
  0x80000016: 's390x',
};

export function archName(auditArch: number): string {
  return ARCHES[auditArch >>> 0] ?? `audit-arch-0x${(auditArch >>> 0).toString(16)}`;
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

/** Parses a header from the start of `b`; null if more bytes are needed. */
export function parseHeader(b: Uint8Array): { header: RecordingHeader; length: number } | null {
  if (b.length < 16) {
    checkMagic(b, Math.min(b.length, 8));
    return null;
  }
  checkMagic(b, 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let byteOrder: ByteOrder;
  if (b[8] === 0x0d && b[9] === 0x0c && b[10] === 0x0b && b[11] === 0x0a) byteOrder = 'le';
  else if (b[8] === 0x0a && b[9] === 0x0b && b[10] === 0x0c && b[11] === 0x0d) byteOrder = 'be';
  else throw new RecordingError(8, 'bad byte-order mark');
  const le = byteOrder === 'le';
  const version = dv.getUint16(12, le);
  if (version !== FORMAT_VERSION) throw new RecordingError(12, `unsupported format version ${version}`);
  const headerLen = dv.getUint16(14, le);
  if (headerLen < HEADER_FIXED_LEN + 4 || headerLen % 8 !== 0) {
    throw new RecordingError(14, `bad header length ${headerLen}`);
  }
  if (b.length < headerLen) return null;
  const wordSize = dv.getUint8(16);
  if (wordSize !== 4 && wordSize !== 8) throw new RecordingError(16, `bad word size ${wordSize}`);
  const auditArch = dv.getUint32(20, le);
  const header: RecordingHeader = {
    version,
    byteOrder,
    wordSize,
    auditArch,
    arch: archName(auditArch),
    startRealtimeNs: dv.getBigUint64(24, le),
    startMonotonicNs: dv.getBigUint64(32, le),
    machine: '',
    kernelRelease: '',
    hostname: '',
    argv: [],
    attachedPids: [],
    producer: '',
    hostWide: false,
  };
  let p = HEADER_FIXED_LEN;
  for (;;) {
    if (p + 4 > headerLen) throw new RecordingError(p, 'header TLV list not terminated');
    const tag = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (tag === 0) break;
    if (p + 4 + len > headerLen) throw new RecordingError(p, `header TLV ${tag} runs past the header`);
    const text = utf8.decode(b.subarray(p + 4, p + 4 + len));
    switch (tag) {
      case 1:
        header.machine = text;
        break;
      case 2:
        header.kernelRelease = text;
        break;
      case 3:
        header.hostname = text;
        break;
      case 4:
        header.argv = text.length === 0 ? [] : text.split('\0');
        break;
      case 5:
        header.attachedPids = text.length === 0 ? [] : text.split(',').map((s) => Number(s));
        break;
      case 6:
        header.producer = text;
        break;
      case 7:
        header.hostWide = text === 'all';
        break;
      default:
        break; // unknown tags are skipped by design
    }
    p += 4 + ((len + 3) & ~3);
  }
  return { header, length: headerLen };
}

function checkMagic(b: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    if (b[i] !== MAGIC.charCodeAt(i)) throw new RecordingError(0, 'not a vfiotrace recording (bad magic)');
  }
}

/**
 * Incremental parser: feed chunks with push(), which returns the records they
 * complete. It never throws from push(): on corruption it keeps the good
 * records, stops, and exposes the error, which finish() (or the next push) throws.
 */
export class RecordingParser {
  header: RecordingHeader | null = null;
  /** Set once corruption was found; parsing stops there. */
  error: RecordingError | null = null;
  /** True after an END record. */
  ended = false;
  /** Stream offset of the first byte not yet consumed. */
  offset = 0;
  /** Bytes of the unfinished header or record, in arrival order. */
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  /** Offset of the unfinished IOCTL record whose fixed part was checked. */
  private fixedChecked = -1;
  private le = true;
  private readonly views: boolean;

  /**
   * `views`: IOCTL records are IoctlRecordViews (64-bit fields read on access,
   * no BigInt per field up front) — for consumers that do not copy records
   * with a spread.
   */
  constructor(opts: { views?: boolean } = {}) {
    this.views = opts.views === true;
  }

  push(chunk: Uint8Array): TraceRecord[] {
    const out: TraceRecord[] = [];
    if (this.error || chunk.length === 0) return out;
    let buf = chunk;
    if (this.pendingLen > 0) {
      // Bytes of an unfinished record wait as a list of chunks, joined once
      // the record is complete (or its fixed part can be checked): a join per
      // chunk would make reading quadratic in the record's size.
      if (this.pendingLen + chunk.length < this.wanted()) {
        this.pending.push(chunk.slice());
        this.pendingLen += chunk.length;
        return out;
      }
      buf = this.takePending(chunk);
    }
    let pos = 0;
    try {
      if (!this.header) {
        const h = parseHeader(buf);
        if (!h) {
          this.keep(buf, 0);
          return out;
        }
        this.header = h.header;
        this.le = h.header.byteOrder === 'le';
        pos = h.length;
        this.offset += h.length;
      }
      pos = this.parseRecords(buf, pos, out);
    } catch (e) {
      if (e instanceof RecordingError) {
        this.error = e;
        return out;
      }
      throw e;
    }
    if (pos < buf.length) this.keep(buf, pos);
    return out;
  }

  /** Keeps buf[pos…] (copied: the caller may reuse its buffer) as the start of the pending bytes. */
  private keep(buf: Uint8Array, pos: number): void {
    this.pending = [buf.slice(pos)];
    this.pendingLen = buf.length - pos;
  }

  /** The pending bytes followed by `last`, in one buffer. */
  private takePending(last: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.pendingLen + last.length);
    let at = 0;
    for (const c of this.pending) {
      joined.set(c, at);
      at += c.length;
    }
    joined.set(last, at);
    this.pending = [];
    this.pendingLen = 0;
    return joined;
  }

  /** The first `n` pending bytes (fewer if fewer are pending). */
  private peek(n: number): Uint8Array {
    const b = new Uint8Array(Math.min(n, this.pendingLen));
    let at = 0;
    for (const c of this.pending) {
      if (at >= b.length) break;
      const part = c.subarray(0, b.length - at);
      b.set(part, at);
      at += part.length;
    }
    return b;
  }

  /**
   * Pending bytes worth a parse attempt: the header's 16 bytes then its
   * length; a record's 8-byte header, then an IOCTL's fixed part (so its
   * payload lengths are checked early), then the whole record.
   */
  private wanted(): number {
    if (!this.header) {
      if (this.pendingLen < 16) return 16;
      const h = this.peek(16);
      return new DataView(h.buffer).getUint16(14, h[8] === 0x0d);
    }
    if (this.pendingLen < 8) return 8;
    const h = new DataView(this.peek(8).buffer);
    const type = h.getUint16(HD.type, this.le);
    const len = h.getUint32(HD.len, this.le);
    if ((type === RECORD_IOCTL || type === RECORD_PENDING) && this.fixedChecked !== this.offset) return Math.min(len, IOCTL_FIXED_LEN);
    return len;
  }

  /** Call at end of input: throws the error seen, or a truncation error if bytes are left over. */
  finish(): void {
    if (this.error) throw this.error;
    if (!this.header) {
      throw this.pendingLen > 0 ? new RecordingError(0, 'truncated header') : new RecordingError(0, NOT_A_RECORDING_EMPTY, true);
    }
    if (this.pendingLen > 0) {
      const err = new RecordingError(this.offset, `truncated record (${this.pendingLen} bytes left over)`);
      this.error = err;
      throw err;
    }
  }

  private parseRecords(buf: Uint8Array, start: number, out: TraceRecord[]): number {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const le = this.le;
    let pos = start;
    const n = buf.length;
    while (pos + 8 <= n) {
      const type = dv.getUint16(pos + HD.type, le);
      const flags = dv.getUint16(pos + HD.flags, le);
      const len = dv.getUint32(pos + HD.len, le);
      const at = this.offset;
      if (len < 8 || len % 8 !== 0) throw new RecordingError(at, `bad record length ${len} (type ${type})`);
      const known = MAX_LEN_BY_TYPE[type];
      if (len > (known?.max ?? MAX_RECORD_LEN)) {
        throw new RecordingError(at, `bad ${known ? `${known.name} record` : `record (type ${type})`} length ${len} (at most ${known?.max ?? MAX_RECORD_LEN})`);
      }
      if (pos + len > n) {
        // Incomplete: check what can be checked now rather than wait for bytes that may never be valid.
        if ((type === RECORD_IOCTL || type === RECORD_PENDING) && pos + IOCTL_FIXED_LEN <= n) {
          this.ioctlLengths(dv, pos, len, at);
          this.fixedChecked = at;
        }
        break;
      }
      switch (type) {
        case RECORD_IOCTL:
          out.push(this.ioctl(buf, dv, pos, len, flags, at));
          break;
        case RECORD_PROCESS:
          out.push(this.process(buf, dv, pos, len, flags, at));
          break;
        case RECORD_END:
          out.push(this.end(buf, dv, pos, len, flags, at));
          this.ended = true;
          break;
        default:
          break; // unknown record types are skipped using len
      }
      pos += len;
      this.offset += len;
    }
    return pos;
  }

  /** Checks an IOCTL record's payload lengths (from its fixed part) against the capture cap and its length. */
  private ioctlLengths(dv: DataView, p: number, len: number, at: number): void {
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

  private ioctl(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): IoctlRecord {
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

  /** The text after a record's fixed part (its u16 length at `lenAt`), checked against the record length. */
  private text(b: Uint8Array, dv: DataView, p: number, len: number, at: number, kind: string, fixed: number, lenAt: number): string {
    if (len < fixed) throw new RecordingError(at, `${kind} record too short (${len} bytes)`);
    const textLen = dv.getUint16(p + lenAt, this.le);
    if (fixed + textLen > len) {
      throw new RecordingError(at, `${kind} text (${textLen} bytes) runs past the record length ${len}`);
    }
    return decodeText(b, p + fixed, textLen);
  }

  private process(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): ProcessRecord {
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

  private end(b: Uint8Array, dv: DataView, p: number, len: number, flags: number, at: number): EndRecord {
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
}

/** Parses a whole in-memory recording. Throws RecordingError after collecting `records` on the error object. */
export function parseRecording(bytes: Uint8Array): { header: RecordingHeader; records: TraceRecord[] } {
  const p = new RecordingParser();
  const records = p.push(bytes);
  try {
    p.finish();
  } catch (e) {
    if (e instanceof RecordingError) (e as RecordingError & { records?: TraceRecord[] }).records = records;
    throw e;
  }
  return { header: p.header as RecordingHeader, records };
}

export { EndReason };
