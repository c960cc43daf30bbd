// The decoded ioctl event as the decoder hands it out. Its payload trees
// (`in`, `out`) are built on first access: filters, counters and the one-line
// text formatter never need them, and building them was most of the cost of
// decoding. The values, findings and return explanation are computed eagerly,
// so what a consumer sees does not depend on whether it looked at the tree.

import type { IoctlRecord } from '../trace/events.js';
import { slotPayload, type CallSlot, type CallText } from './callMemo.js';
import { buildSide, type StructPayload } from './payload.js';
import type { DecodedIoctl, FdKind, FieldNode, Finding, Resolution, RetInfo } from './types.js';

export type { StructPayload };

// Shared placeholders: the decoder sets both fields on every event it makes.
const NO_CANDIDATES: readonly string[] = Object.freeze([]);
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

export class IoctlEvent implements DecodedIoctl {
  readonly kind = 'ioctl' as const;
  seq = 0;
  record: IoctlRecord;
  ts = 0;
  dur: number | null = null;
  pid = 0;
  tid = 0;
  fd = 0;
  fdPath = '';
  fdKind: FdKind = 'other';
  request = 0;
  ioctl: string | null = null;
  family: string | null = null;
  candidates: readonly string[] = NO_CANDIDATES;
  resolution: Resolution = 'unknown';
  argDisplay = '';
  ret: RetInfo;
  incomplete = false;
  truncated = false;
  /** Always set by the decoder (the placeholder is shared and frozen). */
  findings: readonly Finding[] = NO_FINDINGS;
  /** Text cache shared by every call with the same decode (callMemo.ts); the renderer fills it. */
  callText: CallText | null = null;
  private pl: StructPayload | null = null;
  /** A repeated call's payload, made from the record and its slot when first asked for (the text path never asks). */
  private plSlot: CallSlot | null = null;
  private inNode: FieldNode | null | undefined = undefined;
  private outNode: FieldNode | null | undefined = undefined;
  /** A tree was assigned from outside: only the trees tell what to show. */
  private assigned = false;

  constructor(record: IoctlRecord, ret: RetInfo) {
    this.record = record;
    this.ret = ret;
  }

  get in(): FieldNode | null {
    if (this.inNode === undefined) this.inNode = this.payload !== null ? buildSide(this.payload, 'in') : null;
    return this.inNode;
  }
  set in(v: FieldNode | null) {
    this.inNode = v;
    this.assigned = true;
  }

  get out(): FieldNode | null {
    if (this.outNode === undefined) this.outNode = this.payload !== null ? buildSide(this.payload, 'out') : null;
    return this.outNode;
  }
  set out(v: FieldNode | null) {
    this.outNode = v;
    this.assigned = true;
  }

  /** The struct payload for formatting straight from the bytes, when the trees are the decoder's own. */
  get structPayload(): StructPayload | null {
    return this.assigned ? null : this.payload;
  }

  /** Struct payload to build `in`/`out` from; null when there is none. */
  get payload(): StructPayload | null {
    if (this.plSlot !== null) {
      this.pl = slotPayload(this.record, this.plSlot);
      this.plSlot = null;
    }
    return this.pl;
  }
  set payload(v: StructPayload | null) {
    this.pl = v;
    this.plSlot = null;
  }

  /** The payload of a repeated call, to be made from its slot on first use. */
  payloadFrom(slot: CallSlot): void {
    this.plSlot = slot;
  }

  /** The shared text cache, when the trees are the decoder's own (else null: render this event afresh). */
  get sharedText(): CallText | null {
    return this.assigned ? null : this.callText;
  }

  /** The decoder's own trees for payloads that are not structs (built eagerly: one node). */
  setNodes(inNode: FieldNode | null, outNode: FieldNode | null): void {
    this.inNode = inNode;
    this.outNode = outNode;
  }

  /** The plain object (accessors resolved), for JSON.stringify and structured copies. */
  toJSON(): DecodedIoctl {
    return {
      kind: 'ioctl', seq: this.seq, record: this.record, ts: this.ts, dur: this.dur, pid: this.pid, tid: this.tid, fd: this.fd,
      fdPath: this.fdPath, fdKind: this.fdKind, request: this.request, ioctl: this.ioctl, family: this.family, candidates: this.candidates,
      resolution: this.resolution, argDisplay: this.argDisplay, in: this.in, out: this.out, ret: this.ret, incomplete: this.incomplete,
      truncated: this.truncated, findings: this.findings,
    };
  }
}
