// An IOCTL record that reads its 64-bit fields from the stream's bytes when
// asked, instead of allocating six BigInts per record up front. It is an
// IoctlRecord (same names, same types; the bigint fields can be assigned),
// and hot consumers read the numbers they need through the *Of() helpers
// below without any BigInt at all. Plain IoctlRecord objects work with the
// same helpers.
//
// Its 64-bit fields are accessors on the prototype: `{ ...record }` does not
// copy them. RecordingParser hands these out only when asked (the pipeline);
// anything that copies records parses them as plain objects.

import { type IoctlRecord, type RuleKind } from './events.js';
import { IOCTL } from './layout.js';

const TWO32 = 4294967296;

/** Offsets of the 64-bit fields in an IOCTL record (docs/recording-format.md). */
const T_ENTRY = IOCTL.at.t_entry;
const T_EXIT = IOCTL.at.t_exit;
const FD = IOCTL.at.fd;
const REQUEST = IOCTL.at.request;
const ARG = IOCTL.at.arg;
const RET = IOCTL.at.ret;

export class IoctlRecordView implements IoctlRecord {
  readonly type = 'ioctl' as const;
  offset: number;
  flags: number;
  pid: number;
  tid: number;
  wantLen: number;
  inFault: number | null;
  outFault: number | null;
  ruleKind: RuleKind;
  fdPath: string;
  /** The bytes the record was parsed from; entry and exit lie back to back at payloadAt. */
  readonly chunk: Uint8Array;
  readonly payloadAt: number;
  readonly entryLen: number;
  readonly exitLen: number;
  private vEntry: Uint8Array | undefined = undefined;
  private vExit: Uint8Array | undefined = undefined;
  /** entry or exit was assigned: the chunk no longer holds them. */
  private bytesChanged = false;
  /** A DataView over `chunk` (same offsets). */
  readonly dv: DataView;
  /** Record start in dv. */
  private readonly at: number;
  private readonly le: boolean;
  /** A bigint field was assigned: the bytes no longer tell its value, so the helpers go through the bigint. */
  private changed = false;
  /**
   * The bigint fields read or assigned so far, by BIG index; made on first
   * use (most records never make one): a slot per field cost 48 bytes a record.
   */
  private bigs: (bigint | undefined)[] | null = null;

  constructor(
    dv: DataView, at: number, le: boolean, offset: number, flags: number, pid: number, tid: number, wantLen: number,
    inFault: number | null, outFault: number | null, ruleKind: RuleKind, fdPath: string, chunk: Uint8Array, payloadAt: number, entryLen: number, exitLen: number,
  ) {
    this.dv = dv;
    this.at = at;
    this.le = le;
    this.offset = offset;
    this.flags = flags;
    this.pid = pid;
    this.tid = tid;
    this.wantLen = wantLen;
    this.inFault = inFault;
    this.outFault = outFault;
    this.ruleKind = ruleKind;
    this.fdPath = fdPath;
    this.chunk = chunk;
    this.payloadAt = payloadAt;
    this.entryLen = entryLen;
    this.exitLen = exitLen;
  }

  get entry(): Uint8Array {
    return (this.vEntry ??= this.chunk.subarray(this.payloadAt, this.payloadAt + this.entryLen));
  }
  set entry(v: Uint8Array) {
    this.vEntry = v;
    this.bytesChanged = true;
  }
  get exit(): Uint8Array {
    const at = this.payloadAt + this.entryLen;
    return (this.vExit ??= this.chunk.subarray(at, at + this.exitLen));
  }
  set exit(v: Uint8Array) {
    this.vExit = v;
    this.bytesChanged = true;
  }

  /** entry and exit are still chunk[payloadAt, payloadAt + entryLen + exitLen), back to back. */
  get payloadInChunk(): boolean {
    return !this.bytesChanged;
  }

  get tEntry(): bigint {
    return this.big(0) ?? this.keep(0, this.dv.getBigUint64(this.at + T_ENTRY, this.le));
  }
  set tEntry(v: bigint) {
    this.keep(0, v);
    this.changed = true;
  }
  get tExit(): bigint {
    return this.big(1) ?? this.keep(1, this.dv.getBigUint64(this.at + T_EXIT, this.le));
  }
  set tExit(v: bigint) {
    this.keep(1, v);
    this.changed = true;
  }
  get fd(): bigint {
    return this.big(2) ?? this.keep(2, this.dv.getBigUint64(this.at + FD, this.le));
  }
  set fd(v: bigint) {
    this.keep(2, v);
    this.changed = true;
  }
  get request(): bigint {
    return this.big(3) ?? this.keep(3, this.dv.getBigUint64(this.at + REQUEST, this.le));
  }
  set request(v: bigint) {
    this.keep(3, v);
    this.changed = true;
  }
  get arg(): bigint {
    return this.big(4) ?? this.keep(4, this.dv.getBigUint64(this.at + ARG, this.le));
  }
  set arg(v: bigint) {
    this.keep(4, v);
    this.changed = true;
  }
  get ret(): bigint {
    return this.big(5) ?? this.keep(5, this.dv.getBigInt64(this.at + RET, this.le));
  }
  set ret(v: bigint) {
    this.keep(5, v);
    this.changed = true;
  }

  /** A plain IoctlRecord (what JSON.stringify and friends see: the fields, not the view's insides). */
  toJSON(): IoctlRecord {
    return {
      type: 'ioctl', offset: this.offset, flags: this.flags, pid: this.pid, tid: this.tid, tEntry: this.tEntry, tExit: this.tExit, fd: this.fd,
      request: this.request, arg: this.arg, ret: this.ret, wantLen: this.wantLen, inFault: this.inFault, outFault: this.outFault,
      ruleKind: this.ruleKind, fdPath: this.fdPath, entry: this.entry, exit: this.exit,
    };
  }

  private big(k: number): bigint | undefined {
    return this.bigs === null ? undefined : this.bigs[k];
  }
  private keep(k: number, v: bigint): bigint {
    if (this.bigs === null) this.bigs = [undefined, undefined, undefined, undefined, undefined, undefined];
    this.bigs[k] = v;
    return v;
  }

  /** The bytes still tell every field (nothing was assigned). */
  get fromBytes(): boolean {
    return !this.changed;
  }
  /** Low 32 bits of a field, unsigned. */
  low32(field: number): number {
    return this.dv.getUint32(this.at + field + (this.le ? 0 : 4), this.le);
  }
  /** High 32 bits of a field, signed. */
  high32(field: number): number {
    return this.dv.getInt32(this.at + field + (this.le ? 4 : 0), this.le);
  }
}

/** Number(x) for a 64-bit field read as hi:lo (hi signed), exact when it fits; else null. */
function exact(hi: number, lo: number): number | null {
  return hi >= -2097152 && hi < 2097152 ? hi * TWO32 + lo : null;
}

/** r.exit.length, without making the exit bytes' view. */
export function exitLengthOf(r: IoctlRecord): number {
  return r instanceof IoctlRecordView && r.payloadInChunk ? r.exitLen : r.exit.length;
}

/** The fd argument as a C int (low 32 bits, signed). */
export function fdOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) return r.low32(FD) | 0;
  const n = Number(r.fd);
  return n >= 0 && n <= 0x7fffffff ? n : Number(BigInt.asIntN(32, r.fd));
}

/** The request as an unsigned int (low 32 bits). */
export function requestOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) return r.low32(REQUEST);
  const n = Number(r.request);
  return n >= 0 && n <= 0xffffffff ? n : Number(BigInt.asUintN(32, r.request));
}

/** Number(r.ret). */
export function retOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) {
    const n = exact(r.high32(RET), r.low32(RET));
    if (n !== null) return n;
  }
  return Number(r.ret);
}

/** Number(r.tEntry). */
export function tEntryOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) {
    const hi = r.high32(T_ENTRY);
    if (hi >= 0 && hi < 2097152) return hi * TWO32 + r.low32(T_ENTRY);
  }
  return Number(r.tEntry);
}

/** Number(r.tExit). */
export function tExitOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) {
    const hi = r.high32(T_EXIT);
    if (hi >= 0 && hi < 2097152) return hi * TWO32 + r.low32(T_EXIT);
  }
  return Number(r.tExit);
}

/** The arg register as a signed 64-bit number (Number(BigInt.asIntN(64, arg))). */
export function argOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) {
    const n = exact(r.high32(ARG), r.low32(ARG));
    if (n !== null) return n;
  }
  return r.arg <= 0x7fffffffn ? Number(r.arg) : Number(BigInt.asIntN(64, r.arg));
}

/** Low and high 32 bits of the arg register (unsigned, signed): together they are the whole value. */
export function argLowOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) return r.low32(ARG);
  return Number(BigInt.asUintN(32, r.arg));
}
export function argHighOf(r: IoctlRecord): number {
  if (r instanceof IoctlRecordView && r.fromBytes) return r.high32(ARG);
  return Number(BigInt.asIntN(32, r.arg >> 32n));
}
