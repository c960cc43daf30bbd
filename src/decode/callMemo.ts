// Remembering the decode of whole calls seen before. A session repeats calls
// byte for byte (polled EEH state, the same region and IRQ infos, the same
// SET_IRQS): their argument text, findings and return explanation are the
// same every time, so the values-and-findings pass runs once per distinct call.
//
// A slot lives in the memo of one resolution (which pins the ioctl number,
// the fd kind and the container's IOMMU state) and holds everything else the
// decode reads from the record: flags, request, return value, arg, wantLen,
// inFault, fd path and both sides' bytes. A hit is confirmed field by field
// and byte by byte; the hash only finds the candidate.

import { Buffer } from 'node:buffer';
import type { CompiledStruct } from './compile.js';
import type { StructPayload } from './payload.js';
import type { FieldNode, Finding, RetInfo } from './types.js';
import type { IoctlRecord } from '../trace/events.js';
import { argHighOf, argLowOf, IoctlRecordView } from '../trace/recordView.js';
import { copyJoined, hashMix as mix, memoAwake, memoDozing, newMemoUse, type MemoUse } from './memoUse.js';

/** Payloads larger than this (both sides together) are decoded every time. */
export const CALL_MEMO_BYTES = 512;
/** Slots per resolution; the map is emptied when full (a cheap bound, no LRU bookkeeping). */
export const CALL_MEMO_ENTRIES = 4096;

/** Text the renderers derived from a slot's call (same for every call that hits it). */
export interface CallText {
  /** `REQUEST, ARG) = RET (…)`: everything after the fd on the line. */
  textTail: string | null;
  /** Finding lines under the call, for the level in `textFindingsLevel`. */
  textFindings: string | null;
  textFindingsLevel: number;
  /** JSON from `,"fd_kind"` to the end of the line. */
  jsonTail: string | null;
}

export interface CallSlot extends CallText {
  hash: number;
  flags: number;
  request: number;
  ret: number;
  /** The arg register's low and high 32 bits. */
  argLow: number;
  argHigh: number;
  wantLen: number;
  inFault: number | null;
  fdPath: string;
  /** Copies: the record's own bytes are views into a large read buffer. */
  entry: Uint8Array;
  exit: Uint8Array;
  /** Entry and exit back to back, read as little-endian words to compare with a view's chunk. */
  joined: DataView;
  // What the decode made of it.
  argDisplay: string;
  findings: Finding[];
  retInfo: RetInfo;
  /** Struct payloads: what a fresh payload needs besides the record's bytes. */
  cs: CompiledStruct | null;
  argsz: number;
  limit: number;
  /** The kernel wrote the struct back (the event gets an `out`). */
  written: boolean;
  /** Byte order of the recording. */
  le: boolean;
  /** Non-struct arguments: the single node, shared (it is never changed). */
  inNode: FieldNode | null;
}

/** The slots of one resolution, and whether they pay (memoUse.ts). */
export interface CallMemo {
  slots: Map<number, CallSlot>;
  use: MemoUse;
}

export function newCallMemo(): CallMemo {
  return { slots: new Map(), use: newMemoUse() };
}

/** Whether this call skips the memo unhashed (memoUse.ts memoDozing): then neither hash nor look it up. */
export function callMemoDozing(m: CallMemo): boolean {
  return memoDozing(m.use);
}

/** Whether to use the memo for the call with hash `h` (counts the call). */
export function callMemoAwake(m: CallMemo, h: number): boolean {
  return memoAwake(m.use, m.slots, h);
}

/** b[from, to), four bytes at a time. */
function hashBytes(h: number, b: Uint8Array, from: number, to: number): number {
  const end4 = from + ((to - from) & ~3);
  let k = from;
  for (; k < end4; k += 4) h = mix(h, (b[k] as number) | ((b[k + 1] as number) << 8) | ((b[k + 2] as number) << 16) | ((b[k + 3] as number) << 24));
  let t = 0;
  for (; k < to; k++) t = (t << 8) | (b[k] as number);
  return mix(mix(h, t), to - from);
}

/** hashBytes over a DataView: the same value for the same bytes. */
function hashRun(h: number, dv: DataView, from: number, to: number): number {
  const end4 = from + ((to - from) & ~3);
  let k = from;
  for (; k < end4; k += 4) h = mix(h, dv.getInt32(k, true));
  let t = 0;
  for (; k < to; k++) t = (t << 8) | dv.getUint8(k);
  return mix(mix(h, t), to - from);
}

/** The record's entry and exit as one run of its chunk (a view fresh from the reader), else null. */
function inChunk(r: IoctlRecord): IoctlRecordView | null {
  return r instanceof IoctlRecordView && r.payloadInChunk ? r : null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  // Longer runs: one native memcmp beats the loop.
  if (n > 24) return Buffer.compare(a, b) === 0;
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** a equals b[at, at + a.byteLength), four bytes at a time. */
function sameRun(a: DataView, b: DataView, at: number): boolean {
  const n = a.byteLength;
  const n4 = n & ~3;
  let k = 0;
  for (; k < n4; k += 4) if (a.getInt32(k, true) !== b.getInt32(at + k, true)) return false;
  for (; k < n; k++) if (a.getUint8(k) !== b.getUint8(at + k)) return false;
  return true;
}

/** The slot's entry and exit are this record's. */
function samePayload(s: CallSlot, r: IoctlRecord): boolean {
  const v = inChunk(r);
  if (v === null) return sameBytes(s.entry, r.entry) && sameBytes(s.exit, r.exit);
  return s.entry.length === v.entryLen && s.exit.length === v.exitLen && sameRun(s.joined, v.dv, v.payloadAt);
}

/** The key hash of a call (null: too large to remember). */
export function callHash(r: IoctlRecord, request: number, ret: number): number | null {
  const v = inChunk(r);
  const entryLen = v !== null ? v.entryLen : r.entry.length;
  const exitLen = v !== null ? v.exitLen : r.exit.length;
  if (entryLen + exitLen > CALL_MEMO_BYTES) return null;
  // Low and high words tell a register value apart only within 64 bits.
  if (!(r instanceof IoctlRecordView && r.fromBytes) && (r.arg < 0n || r.arg > 0xffffffffffffffffn)) return null;
  let h = mix(0x9747b28c, r.flags);
  h = mix(h, request);
  h = mix(h, ret);
  h = mix(h, argLowOf(r));
  h = mix(h, argHighOf(r));
  h = mix(h, r.wantLen);
  h = mix(h, r.inFault === null ? -1 : r.inFault);
  h = mix(h, entryLen);
  if (v !== null) h = hashRun(h, v.dv, v.payloadAt, v.payloadAt + entryLen + exitLen);
  else h = hashBytes(hashBytes(h, r.entry, 0, entryLen), r.exit, 0, exitLen);
  // Final avalanche (fmix32).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The slot remembering exactly this call, or undefined. */
export function findCall(memo: CallMemo, h: number, r: IoctlRecord, request: number, ret: number): CallSlot | undefined {
  const s = memo.slots.get(h);
  if (
    s === undefined || s.flags !== r.flags || s.request !== request || s.ret !== ret || s.argLow !== argLowOf(r) || s.argHigh !== argHighOf(r) || s.wantLen !== r.wantLen ||
    s.inFault !== r.inFault || s.fdPath !== r.fdPath || !samePayload(s, r)
  ) {
    return undefined;
  }
  memo.use.hits++;
  return s;
}

/** Remembers a decoded call (the bytes are copied). */
export function rememberCall(memo: CallMemo, h: number, r: IoctlRecord, request: number, ret: number, made: Pick<CallSlot, 'argDisplay' | 'findings' | 'retInfo' | 'cs' | 'argsz' | 'limit' | 'written' | 'le' | 'inNode'>): CallSlot {
  if (memo.slots.size >= CALL_MEMO_ENTRIES) memo.slots.clear();
  const bytes = copyJoined(r.entry, r.exit);
  const entryLen = r.entry.length;
  const slot: CallSlot = {
    hash: h,
    flags: r.flags,
    request,
    ret,
    argLow: argLowOf(r),
    argHigh: argHighOf(r),
    wantLen: r.wantLen,
    inFault: r.inFault,
    fdPath: r.fdPath,
    entry: bytes.subarray(0, entryLen),
    exit: bytes.subarray(entryLen),
    joined: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    argDisplay: made.argDisplay,
    findings: made.findings,
    retInfo: made.retInfo,
    cs: made.cs,
    argsz: made.argsz,
    limit: made.limit,
    written: made.written,
    le: made.le,
    inNode: made.inNode,
    textTail: null,
    textFindings: null,
    textFindingsLevel: -1,
    jsonTail: null,
  };
  memo.slots.set(h, slot);
  return slot;
}

/** A repeated call's struct payload: this record's bytes with what the slot remembers (null for non-struct calls). */
export function slotPayload(r: IoctlRecord, slot: CallSlot): StructPayload | null {
  if (slot.cs === null) return null;
  const entry = r.entry;
  const ex = slot.written ? r.exit : null;
  return {
    cs: slot.cs, entry, dv: new DataView(entry.buffer, entry.byteOffset, entry.byteLength), base: 0, exit: ex,
    dvExit: ex !== null ? new DataView(ex.buffer, ex.byteOffset, ex.byteLength) : null, baseExit: 0, le: slot.le, ret: slot.ret, argsz: slot.argsz, limit: slot.limit,
  };
}
