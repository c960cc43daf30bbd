// Every event the UI has seen, kept compact: a few typed columns per event
// plus one short argument string, so a million events fit in memory. Full
// DecodedEvents (trees, bytes) are kept only for the most recent ones; older
// ones are fetched again on demand through `loader` (e.g. re-read from the
// recording) when the detail pane needs them.

import type { CallText } from '../../decode/callMemo.js';
import type { CompiledStruct } from '../../decode/compile.js';
import { IoctlEvent, type StructPayload } from '../../decode/event.js';
import type { DecodedEvent, FdKind, Finding } from '../../decode/types.js';
import { argsPayload, payloadArgs, ROW, summarize, type RowSummary } from './rowSummary.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export { ROW };

export const FD_KINDS: readonly FdKind[] = ['container', 'group', 'device', 'iommufd', 'migration', 'dmabuf', 'other'];

/** Strings repeated across events (ioctl names, return meanings) stored once. */
class Interner {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
  get(id: number): string {
    return this.list[id] ?? '';
  }
}

/**
 * The parts of a row that are the same for every call the decoder found to
 * be a repeat of one it saw before (same bytes, request, return value and
 * resolution): its names, argument text and flags. Computed and stored once
 * per distinct call, so a session of repeated polls costs one summary.
 */
interface CallPart {
  nameId: number;
  retTextId: number;
  argOff: number;
  argLen: number;
  /** The row's argument source (EventStore.srcCol): the bytes at argOff are entry bytes, not text, when ≥ 0. */
  src: number;
  flags: number;
  /** The first event's findings: a repeat's are the same objects (the decoder copies only the array). */
  findings: readonly Finding[];
}

/** Distinct calls whose row parts are remembered (about as many as the decoder remembers per resolution). */
const PARTS_KEEP = 4096;

/** Bytes before a deferred row's entry bytes in the arena: its argsz and limit. */
const PAYLOAD_HEAD = 8;

const KIND_INDEX: ReadonlyMap<FdKind, number> = new Map(FD_KINDS.map((k, i) => [k, i]));

/** A list row: the event's summary plus where it sits in the store. */
export interface Row extends RowSummary {
  index: number;
  seq: number;
  findings: number;
}

/**
 * Re-fetch a full event: `offset` is its record's byte offset in the stream;
 * `fdKind` is what the in-sequence decoding knew of its fd.
 */
export type Loader = (index: number, seq: number, offset: number, fdKind: FdKind) => DecodedEvent | null;

export class EventStore {
  length = 0;
  errors = 0;
  findingsTotal = 0;
  ioctls = 0;
  /** Events of vfiotrace's own wrapper processes (ROW.OWN). */
  own = 0;
  /** Events the tracer lost (the END record's count: a full eBPF ring). */
  lost = 0;
  readonly names = new Interner();
  private readonly retTexts = new Interner();
  private cap = 0;
  private seqs = new Float64Array(0);
  private offCol = new Float64Array(0);
  private tsCol = new Float64Array(0);
  private durCol = new Float64Array(0);
  private retCol = new Float64Array(0);
  private pidCol = new Int32Array(0);
  private tidCol = new Int32Array(0);
  private fdCol = new Int32Array(0);
  private nameCol = new Int32Array(0);
  private retTextCol = new Int32Array(0);
  private flagCol = new Uint8Array(0);
  private kindCol = new Uint8Array(0);
  private findCol = new Uint16Array(0);
  /** Argument texts as UTF-8 in one arena: no per-row string objects. */
  private argBytes = new Uint8Array(1 << 16);
  private argUsed = 0;
  private argOff = new Float64Array(0);
  private argLen = new Uint16Array(0);
  /**
   * Per row: -1 when the arena holds its argument text, else an index into
   * shapes, and the arena holds its payload's argsz and limit (u32 each) then
   * its entry bytes: the text is made from them when the row is shown.
   */
  private srcCol = new Int32Array(0);
  private argView = new DataView(this.argBytes.buffer);
  /** The struct and byte order of deferred rows (few: one per struct type seen). */
  private readonly shapes: { cs: CompiledStruct; le: boolean }[] = [];
  /**
   * The decoder's findings of the rows that have any (the event's own
   * array, shared by repeats of a call), reached through findRef: a Map by
   * seq cost ~100 bytes per entry on a trace with a finding on every call.
   */
  private readonly rowFindings: (readonly Finding[])[] = [];
  /** Per row: index into rowFindings, or -1 (most rows have none). */
  private findRef = new Int32Array(0);
  /** Findings the sequence audit reported late, by seq (few). */
  private readonly lateBySeq = new Map<number, Finding[]>();
  /** Every finding in arrival order, for the findings pane. */
  private readonly findingsList: { seq: number; finding: Finding }[] = [];
  private readonly ring: (DecodedEvent | undefined)[];
  private readonly reloaded = new Map<number, DecodedEvent>();
  /**
   * Row parts by the decoder's shared call slot. A plain Map emptied when
   * full, not a WeakMap: with a stream of distinct calls, a million weak
   * entries made the garbage collector the largest cost of loading.
   */
  private readonly parts = new Map<CallText, CallPart>();
  loader: Loader | null = null;

  /** keepFull: how many of the most recent full events stay in memory. */
  constructor(readonly keepFull = 500) {
    this.ring = new Array<DecodedEvent | undefined>(Math.max(1, keepFull));
    this.grow(1024);
  }

  private grow(min: number): void {
    let cap = Math.max(1024, this.cap);
    while (cap < min) cap *= 2;
    if (cap === this.cap) return;
    const f64 = (a: Float64Array) => { const n = new Float64Array(cap); n.set(a); return n; };
    const i32 = (a: Int32Array) => { const n = new Int32Array(cap); n.set(a); return n; };
    this.seqs = f64(this.seqs);
    this.offCol = f64(this.offCol);
    this.tsCol = f64(this.tsCol);
    this.durCol = f64(this.durCol);
    this.retCol = f64(this.retCol);
    this.pidCol = i32(this.pidCol);
    this.tidCol = i32(this.tidCol);
    this.fdCol = i32(this.fdCol);
    this.nameCol = i32(this.nameCol);
    this.retTextCol = i32(this.retTextCol);
    this.findRef = i32(this.findRef);
    const f = new Uint8Array(cap); f.set(this.flagCol); this.flagCol = f;
    const k = new Uint8Array(cap); k.set(this.kindCol); this.kindCol = k;
    const c = new Uint16Array(cap); c.set(this.findCol); this.findCol = c;
    this.argOff = f64(this.argOff);
    const al = new Uint16Array(cap); al.set(this.argLen); this.argLen = al;
    this.srcCol = i32(this.srcCol);
    this.cap = cap;
  }

  /** Append one event (`own`: vfiotrace's own wrapper caused it); returns its index. */
  add(ev: DecodedEvent, own = false): number {
    const slot = ev instanceof IoctlEvent ? ev.sharedText : null;
    // The mark belongs to the event, not to the text it shares with repeats.
    const mark = own ? ROW.OWN : 0;
    if (own) this.own++;
    if (slot !== null) {
      const part = this.parts.get(slot);
      if (part !== undefined) return this.addRepeat(ev as IoctlEvent, part, mark);
    }
    const i = this.length;
    if (i >= this.cap) this.grow(i + 1);
    // The argument text of a struct call is made when its row is shown (its entry bytes are kept instead).
    const pl = argsPayload(ev);
    const s = summarize(ev, pl === null);
    this.seqs[i] = ev.seq;
    this.offCol[i] = ev.record.offset;
    this.tsCol[i] = s.ts;
    this.durCol[i] = s.dur;
    this.retCol[i] = s.ret;
    this.pidCol[i] = s.pid;
    this.tidCol[i] = s.tid;
    this.fdCol[i] = s.fd;
    this.nameCol[i] = this.names.id(s.name);
    this.retTextCol[i] = this.retTexts.id(s.retText);
    this.flagCol[i] = s.flags | mark;
    this.kindCol[i] = KIND_INDEX.get(s.fdKind) ?? 6;
    if (pl !== null) this.putPayload(i, pl);
    else this.putArgs(i, s.args);
    if (slot !== null) {
      const part: CallPart = {
        nameId: this.nameCol[i] ?? 0, retTextId: this.retTextCol[i] ?? 0, argOff: this.argOff[i] ?? 0, argLen: this.argLen[i] ?? 0,
        src: this.srcCol[i] ?? -1, flags: s.flags, findings: ev.kind === 'ioctl' ? ev.findings : [],
      };
      if (this.parts.size >= PARTS_KEEP) this.parts.clear();
      this.parts.set(slot, part);
    }
    return this.finishAdd(ev, i, s.flags);
  }

  /** A repeated call: only the per-event columns are new; its text is shared with the first. */
  private addRepeat(ev: IoctlEvent, part: CallPart, mark: number): number {
    const i = this.length;
    if (i >= this.cap) this.grow(i + 1);
    this.seqs[i] = ev.seq;
    this.offCol[i] = ev.record.offset;
    this.tsCol[i] = ev.ts;
    this.durCol[i] = ev.dur ?? -1;
    this.retCol[i] = ev.ret.value;
    this.pidCol[i] = ev.pid;
    this.tidCol[i] = ev.tid;
    this.fdCol[i] = ev.fd;
    this.nameCol[i] = part.nameId;
    this.retTextCol[i] = part.retTextId;
    this.flagCol[i] = part.flags | mark;
    this.kindCol[i] = KIND_INDEX.get(ev.fdKind) ?? 6;
    this.argOff[i] = part.argOff;
    this.argLen[i] = part.argLen;
    this.srcCol[i] = part.src;
    return this.finishAdd(ev, i, part.flags, part.findings);
  }

  private finishAdd(ev: DecodedEvent, i: number, flags: number, shared?: readonly Finding[]): number {
    const nf = ev.kind === 'ioctl' ? ev.findings.length : 0;
    this.findCol[i] = Math.min(nf, 0xffff);
    if (ev.kind === 'end') this.lost = ev.record.dropped;
    if (ev.kind === 'ioctl') {
      this.ioctls++;
      if (flags & ROW.ERROR) this.errors++;
      if (nf > 0) {
        for (const finding of ev.findings) this.findingsList.push({ seq: ev.seq, finding });
        this.findingsTotal += nf;
      }
    }
    if (nf > 0 && ev.kind === 'ioctl') {
      this.findRef[i] = this.rowFindings.length;
      this.rowFindings.push(shared !== undefined && shared.length === nf ? shared : ev.findings);
    } else this.findRef[i] = -1;
    this.ring[i % this.ring.length] = ev;
    this.length = i + 1;
    return i;
  }

  /**
   * Attach a finding that the sequence audit reported after its event was
   * added. Kept even when the event itself is not stored (hidden by -e).
   */
  addFinding(seq: number, finding: Finding): void {
    const late = this.lateBySeq.get(seq);
    if (late) late.push(finding);
    else this.lateBySeq.set(seq, [finding]);
    this.findingsList.push({ seq, finding });
    this.findingsTotal++;
    const index = this.indexOfSeq(seq);
    if (index < 0) return;
    this.findCol[index] = Math.min(this.findings(index).length, 0xffff);
    this.flagCol[index] = (this.flagCol[index] ?? 0) | ROW.FINDING;
  }

  /** Room for `n` more bytes in the arena. */
  private reserve(n: number): void {
    const need = this.argUsed + n;
    if (need <= this.argBytes.length) return;
    let size = this.argBytes.length * 2;
    while (size < need) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.argBytes.subarray(0, this.argUsed));
    this.argBytes = b;
    this.argView = new DataView(b.buffer);
  }

  /** Keeps what the row's argument text is made from: argsz, limit and the entry bytes (copied: the record's buffer is reused). */
  private putPayload(i: number, pl: StructPayload): void {
    const entry = pl.entry;
    this.reserve(PAYLOAD_HEAD + entry.length);
    const at = this.argUsed;
    this.argView.setUint32(at, pl.argsz, true);
    this.argView.setUint32(at + 4, pl.limit, true);
    const from = at + PAYLOAD_HEAD;
    const n = entry.length;
    // Most entries are a few dozen bytes: a word loop through the payload's own view beats set()'s call into the runtime.
    if (n <= 64) {
      const dv = pl.dv;
      const base = pl.base;
      const av = this.argView;
      let k = 0;
      for (; k + 4 <= n; k += 4) av.setUint32(from + k, dv.getUint32(base + k, true), true);
      for (; k < n; k++) av.setUint8(from + k, dv.getUint8(base + k));
    } else this.argBytes.set(entry, from);
    this.argOff[i] = at;
    this.argLen[i] = entry.length;
    this.argUsed = from + entry.length;
    this.srcCol[i] = this.shapeId(pl.cs, pl.le);
  }

  private shapeId(cs: CompiledStruct, le: boolean): number {
    // One struct type per ioctl and a handful of ioctls: a scan beats a Map here (a plain loop: no closure per call).
    const shapes = this.shapes;
    for (let n = 0; n < shapes.length; n++) {
      const sh = shapes[n] as { cs: CompiledStruct; le: boolean };
      if (sh.cs === cs && sh.le === le) return n;
    }
    this.shapes.push({ cs, le });
    return this.shapes.length - 1;
  }

  private putArgs(i: number, text: string): void {
    this.srcCol[i] = -1;
    // ASCII in practice; 3 bytes per UTF-16 unit bounds any text.
    this.reserve(text.length * 3);
    const { written } = encoder.encodeInto(text, this.argBytes.subarray(this.argUsed, this.argUsed + Math.min(text.length * 3, 0xffff)));
    this.argOff[i] = this.argUsed;
    this.argLen[i] = written;
    this.argUsed += written;
  }

  seq(i: number): number { return this.seqs[i] ?? -1; }
  flags(i: number): number { return this.flagCol[i] ?? 0; }
  fd(i: number): number { return this.fdCol[i] ?? 0; }
  tid(i: number): number { return this.tidCol[i] ?? 0; }
  pid(i: number): number { return this.pidCol[i] ?? 0; }
  nameId(i: number): number { return this.nameCol[i] ?? 0; }
  ret(i: number): number { return this.retCol[i] ?? 0; }
  dur(i: number): number { return this.durCol[i] ?? -1; }
  fdKind(i: number): FdKind { return FD_KINDS[this.kindCol[i] ?? 6] ?? 'other'; }
  args(i: number): string {
    const off = this.argOff[i] ?? 0;
    const len = this.argLen[i] ?? 0;
    const shape = this.shapes[this.srcCol[i] ?? -1];
    if (shape === undefined) return decoder.decode(this.argBytes.subarray(off, off + len));
    const entry = this.argBytes.slice(off + PAYLOAD_HEAD, off + PAYLOAD_HEAD + len);
    const argsz = this.argView.getUint32(off, true);
    const limit = this.argView.getUint32(off + 4, true);
    // What the decoder's payload was, minus the exit side (not shown in the row).
    return payloadArgs({ cs: shape.cs, entry, dv: new DataView(entry.buffer), base: 0, exit: null, dvExit: null, baseExit: 0, le: shape.le, ret: this.ret(i), argsz, limit });
  }

  /** The row's findings: the decoder's, then any the audit reported late. */
  findings(i: number): readonly Finding[] {
    const ref = i >= 0 && i < this.length ? (this.findRef[i] ?? -1) : -1;
    const own = ref >= 0 ? this.rowFindings[ref] : undefined;
    const late = this.lateBySeq.size > 0 ? this.lateBySeq.get(this.seq(i)) : undefined;
    if (!late) return own ?? [];
    return own ? [...own, ...late] : late.slice();
  }

  row(i: number): Row {
    return {
      index: i,
      seq: this.seq(i),
      ts: this.tsCol[i] ?? 0,
      dur: this.dur(i),
      pid: this.pid(i),
      tid: this.tid(i),
      fd: this.fd(i),
      fdKind: this.fdKind(i),
      name: this.names.get(this.nameId(i)),
      args: this.args(i),
      ret: this.ret(i),
      retText: this.retTexts.get(this.retTextCol[i] ?? 0),
      flags: this.flags(i),
      findings: this.findCol[i] ?? 0,
    };
  }

  /** True when event(i) is held in memory as decoded in sequence (not re-read). */
  isKept(i: number): boolean {
    return i >= 0 && i < this.length && i >= this.length - this.ring.length && this.ring[i % this.ring.length] !== undefined;
  }

  /** The full decoded event: kept if recent, else re-fetched through `loader`. */
  event(i: number): DecodedEvent | null {
    if (i < 0 || i >= this.length) return null;
    const kept = this.ring[i % this.ring.length];
    if (kept && i >= this.length - this.ring.length) return kept;
    const again = this.reloaded.get(i);
    if (again) return again;
    if (!this.loader) return null;
    const ev = this.loader(i, this.seq(i), this.offCol[i] ?? -1, this.fdKind(i));
    if (ev) {
      if (this.reloaded.size >= 256) {
        const oldest = this.reloaded.keys().next().value;
        if (oldest !== undefined) this.reloaded.delete(oldest);
      }
      this.reloaded.set(i, ev);
    }
    return ev;
  }

  /** All findings in arrival order (for the findings pane); do not modify. */
  allFindings(): readonly { seq: number; finding: Finding }[] {
    return this.findingsList;
  }

  /** Index of the event with this sequence number (events arrive in seq order). */
  indexOfSeq(seq: number): number {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.seq(mid);
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
