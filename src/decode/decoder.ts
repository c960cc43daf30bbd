// The decoder: raw records in, DecodedEvents out. Resolves which ioctl a
// number means on this fd, decodes entry and exit payloads with the compiled
// descriptions (structDecode.ts), explains the return value (explain.ts) and
// attaches per-call findings (callFindings.ts).

import { IOCTL_FLAG, type IoctlRecord, type RecordingHeader, type TraceRecord, ProcessEventKind } from '../trace/events.js';
import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode, Finding, RetInfo } from './types.js';
import type { Vals } from './dsl.js';
import type { IoctlDesc } from './ioctlDesc.js';
import { decodeIo, encodingFor } from './encoding.js';
import { errnoFlavor, errnoName } from './errno.js';
import { FdTable, type FdState } from './fdtable.js';
import { makeFormatter, escapeBytes, rawText, type Formatter } from './format.js';
import type { Registry } from './registry.js';
import { explainReturn } from './explain.js';
import { IoctlEvent, type StructPayload } from './event.js';
import { IOMMU_TYPE_NAMES, resolveIoctl, type Resolved } from './resolve.js';
import { argHex, argPointer, regHex } from './argText.js';
export { backendOfIommuType } from './resolve.js';
import { argOf, fdOf, requestOf, retOf, tEntryOf, tExitOf } from '../trace/recordView.js';
import { callHash, callMemoAwake, callMemoDozing, findCall, newCallMemo, rememberCall, type CallSlot } from './callMemo.js';
import { StructDecoder, structFacts, type StructFacts } from './structDecode.js';
import { CheckRunner, faultFindings } from './callFindings.js';

export interface Decoder {
  decode(record: TraceRecord): DecodedEvent;
  /** What an fd of a process currently is, as far as the decoder knows. */
  fdKind(pid: number, fd: number): FdKind;
  /** Tell the decoder an fd's kind learnt elsewhere (e.g. an fd inherited from outside the trace). */
  createdFd(pid: number, fd: number, kind: FdKind): void;
}

export interface DecoderOptions {
  /** The descriptions to decode with (decoders/index.ts registry()). */
  registry: Registry;
  /** Reuse the decode of calls seen before, byte for byte (callMemo.ts). Default true; tests compare against false. */
  callMemo?: boolean;
}



/** Facts precomputed per description. */
interface DescInfo {
  struct: StructFacts | null;
  intFmt: Formatter | null;
}

/** What the decode of one call's argument made (the decoder's scratch: decoding is synchronous). */
interface ArgDecode {
  argDisplay: string;
  inNode: FieldNode | null;
  payload: StructPayload | null;
  inVals: Vals;
  outVals: Vals | null;
}

/** Values of a call with none (no description, or layouts not decoded): read only. */
const NO_VALS: Vals = Object.freeze({}) as Vals;

const KIND_INDEX: Record<FdKind, number> = { container: 0, group: 1, device: 2, iommufd: 3, migration: 4, dmabuf: 5, other: 6 };

const SET_IOMMU = 'VFIO_SET_IOMMU';

/** Low 32 bits of a register as a C int (fds). */
function toInt32(b: bigint): number {
  const n = Number(b);
  return n >= 0 && n <= 0x7fffffff ? n : Number(BigInt.asIntN(32, b));
}

/** Low 32 bits as unsigned (ioctl cmd is an unsigned int). */
function toUint32(b: bigint): number {
  const n = Number(b);
  return n >= 0 && n <= 0xffffffff ? n : Number(BigInt.asUintN(32, b));
}

export function createDecoder(header: RecordingHeader, opts: DecoderOptions): Decoder {
  return new IoctlDecoder(header, opts);
}

class IoctlDecoder implements Decoder {
  private readonly reg: Registry;
  private readonly useMemo: boolean;
  private readonly le: boolean;
  private readonly enc: ReturnType<typeof encodingFor>;
  private readonly flavor: ReturnType<typeof errnoFlavor>;
  /** i386 and other ILP32 ABIs lay the structs out differently: names only. */
  private readonly layoutsOk: boolean;
  /**
   * Monotonic ns stay below 2^53 for 104 days of uptime: plain doubles are
   * exact and avoid a bigint allocation per event.
   */
  private readonly startNum: number;
  private readonly fds = new FdTable();
  private readonly info = new Map<IoctlDesc, DescInfo>();
  private readonly resolvedCache = new Map<number, Resolved>();
  private readonly structs: StructDecoder;
  private readonly checks: CheckRunner;
  private seq = 0;

  constructor(private readonly header: RecordingHeader, opts: DecoderOptions) {
    this.reg = opts.registry;
    this.useMemo = opts.callMemo !== false;
    this.le = header.byteOrder === 'le';
    this.enc = encodingFor(header.arch);
    this.flavor = errnoFlavor(header.arch);
    this.layoutsOk = header.wordSize === 8;
    this.startNum = Number(header.startMonotonicNs);
    this.structs = new StructDecoder(this.le);
    this.checks = new CheckRunner(this.le);
  }

  decode(record: TraceRecord): DecodedEvent {
    switch (record.type) {
      case 'ioctl': {
        const s = this.seq;
        try {
          return this.decodeIoctl(record);
        } catch (e) {
          // A decoder bug must not lose the event: show it undecoded.
          this.seq = s + 1;
          return this.undecoded(record, s, e);
        }
      }
      case 'process': {
        const fds = this.fds;
        if (record.kind === ProcessEventKind.Start && record.other > 0) fds.fork(record.other, record.pid);
        if ((record.kind === ProcessEventKind.Exit || record.kind === ProcessEventKind.Killed) && record.pid === record.tid) fds.exit(record.pid);
        if (record.kind === ProcessEventKind.Exec) fds.exec(record.pid);
        return { kind: 'process', seq: this.seq++, record, ts: this.rel(record.ts), pid: record.pid, tid: record.tid };
      }
      case 'end':
        return { kind: 'end', seq: this.seq++, record };
    }
  }

  fdKind(pid: number, fd: number): FdKind {
    return this.fds.get(pid, fd)?.kind ?? 'other';
  }

  createdFd(pid: number, fd: number, kind: FdKind): void {
    this.fds.created(pid, fd, kind);
  }

  private rel(t: bigint): number {
    const n = Number(t);
    return n >= this.startNum ? n - this.startNum : n;
  }

  private descInfo(d: IoctlDesc): DescInfo {
    let di = this.info.get(d);
    if (!di) {
      di = { struct: d.arg.kind === 'struct' ? structFacts(d.arg.type) : null, intFmt: d.arg.kind === 'int' || d.arg.kind === 'u32ptr' ? makeFormatter(d.arg.display, false) : null };
      this.info.set(d, di);
    }
    return di;
  }

  private resolveCached(nr: number, cands: readonly IoctlDesc[], kind: FdKind, st: FdState): Resolved {
    const iommu = st.iommu;
    if (iommu !== undefined && (iommu < 0 || iommu > 255)) return resolveIoctl(cands, kind, st, this.header.arch);
    const stateKey = iommu === undefined ? 0 : 1 + iommu * 2 + (st.iommuFailed ? 1 : 0);
    const key = nr + (KIND_INDEX[kind] << 8) + stateKey * 4096;
    let r = this.resolvedCache.get(key);
    if (!r) {
      r = resolveIoctl(cands, kind, st, this.header.arch);
      // A failed pick names the SET_IOMMU event in a finding: not the same for every call.
      if (!r.failedPick && this.useMemo) r.memo = newCallMemo();
      this.resolvedCache.set(key, r);
    }
    return r;
  }

  private decodeIoctl(r: IoctlRecord): DecodedIoctl {
    const s = this.seq++;
    const fd = fdOf(r);
    const incomplete = (r.flags & IOCTL_FLAG.NO_EXIT) !== 0;
    const ret = incomplete ? 0 : retOf(r);
    const st = this.fds.resolve(r.pid, fd, r.fdPath);
    const kind = st.kind;
    const request = requestOf(r);
    const nr = decodeIo(this.enc, request);
    const cands = nr >= 0 ? this.reg.byNr.get(nr) : undefined;
    const rv = cands && cands.length > 0 ? this.resolveCached(nr, cands, kind, st) : null;
    let h: number | null = null;
    if (rv !== null && rv.memo !== null && !callMemoDozing(rv.memo)) {
      h = callHash(r, request, ret);
      if (h !== null && !callMemoAwake(rv.memo, h)) h = null;
      if (h !== null) {
        const slot = findCall(rv.memo, h, r, request, ret);
        if (slot !== undefined) return this.repeated(r, s, fd, st, request, rv, slot, incomplete, ret);
      }
    }
    const findings: Finding[] = [];
    if (rv !== null) resolutionFindings(rv, st, findings);
    const desc = rv !== null ? rv.desc : null;
    const errno = !incomplete && ret < 0 ? errnoName(-ret, this.flavor) ?? `E?${-ret}` : null;
    if ((r.flags & IOCTL_FLAG.TRUNCATED) !== 0) {
      findings.push({ rule: 'capture-truncated', severity: 'info', message: `captured ${r.entry.length} of ${r.wantLen} bytes (payload cap); later fields are not shown` });
    }
    const a = this.decodeArg(desc, r, ret, errno, incomplete, findings);
    const argNum = argOf(r);
    const retInfo = explainReturn({ desc, incomplete, ret, errno, inVals: a.inVals, outVals: a.outVals, arg: argNum, kind, fdPath: r.fdPath, findings });
    this.aftermath(r, s, st, desc, retInfo, argNum, incomplete, ret);
    let slot: CallSlot | null = null;
    const pl = a.payload;
    if (h !== null && rv !== null && rv.memo !== null) {
      slot = rememberCall(rv.memo, h, r, request, ret, {
        argDisplay: a.argDisplay, findings, retInfo, cs: pl !== null ? pl.cs : null, argsz: pl !== null ? pl.argsz : 0,
        limit: pl !== null ? pl.limit : 0, written: pl !== null && pl.exit !== null, le: this.le, inNode: a.inNode,
      });
    }
    return this.makeEvent(r, s, fd, kind, request, rv, a.argDisplay, pl, a.inNode, incomplete, findings, retInfo, slot);
  }

  /** The argument: its text, its payload (values, findings, the ioctl's own check). */
  private decodeArg(desc: IoctlDesc | null, r: IoctlRecord, ret: number, errno: string | null, incomplete: boolean, findings: Finding[]): ArgDecode {
    const out: ArgDecode = { argDisplay: '', inNode: null, payload: null, inVals: NO_VALS, outVals: null };
    if (desc === null) {
      out.argDisplay = argHex(r);
      return out;
    }
    const di = this.descInfo(desc);
    const a = desc.arg;
    const argNum = argOf(r);
    if (a.kind === 'int') {
      // The ioctl's arg is an unsigned long: a value with the top bit set is
      // shown as the kernel reads it, not as a negative number.
      out.argDisplay = argNum >= 0 || a.display.kind === 'fd' || a.display.kind === 'dec'
        ? (di.intFmt as Formatter)(BigInt(argNum), argNum)
        : '0x' + BigInt.asUintN(this.header.wordSize * 8, r.arg).toString(16);
    } else if (a.kind !== 'none') out.argDisplay = argPointer(r);
    faultFindings(desc, r, out.argDisplay, errno, incomplete, this.le, findings);
    if (a.kind === 'struct' && !this.layoutsOk) {
      findings.push({ rule: 'abi-unsupported', severity: 'info', message: `struct layouts are described for LP64 only; ${this.header.arch} (word size ${this.header.wordSize}) payloads are not decoded` });
      return out;
    }
    if (a.kind === 'struct') this.structs.decode(desc, di.struct as StructFacts, r, ret, errno, incomplete, findings, out);
    else {
      out.inVals = {}; // fresh: the check below may write to its values
      if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
        const n = this.scalarArg(r.entry, a.kind === 'fdptr' ? 'fd' : a.name, a.kind === 'fdptr' ? '__s32' : '__u32', a.kind === 'fdptr', di.intFmt);
        if (n?.value !== undefined) out.inVals[n.name] = Number(n.value);
        out.inNode = n;
      } else if (a.kind === 'cstring') {
        // No string at all (NULL, or nothing readable): the pointer, as strace shows it, not "".
        const display = r.arg === 0n ? 'NULL' : r.inFault === 0 ? regHex(r.arg) : `"${escapeBytes(r.entry)}"${(r.flags & IOCTL_FLAG.TRUNCATED) !== 0 ? '...' : ''}`;
        out.inNode = { name: 'buf', path: 'buf', ctype: 'char[]', offset: 0, size: r.entry.length, dir: 'in', text: rawText(r.entry), display };
      }
    }
    if (desc.check !== undefined) this.checks.run(desc, { inVals: out.inVals, outVals: out.outVals, ret, errno, entry: r.entry, completed: !incomplete }, findings);
    return out;
  }

  /** Remember what a call created or changed. */
  private aftermath(r: IoctlRecord, s: number, st: FdState, desc: IoctlDesc | null, retInfo: RetInfo, argNum: number, incomplete: boolean, ret: number): void {
    if (retInfo.newFd) this.fds.created(r.pid, retInfo.newFd.fd, retInfo.newFd.kind);
    if (desc && desc.name === SET_IOMMU && (st.kind === 'container' || st.kind === 'iommufd')) {
      st.iommu = argNum;
      st.iommuFailed = incomplete || ret < 0;
      st.iommuSeq = s;
    }
  }

  /** A call decoded before, byte for byte: its results again, with this record's bytes and times. */
  private repeated(r: IoctlRecord, s: number, fd: number, st: FdState, request: number, rv: Resolved, slot: CallSlot, incomplete: boolean, ret: number): DecodedIoctl {
    this.aftermath(r, s, st, rv.desc, slot.retInfo, argOf(r), incomplete, ret);
    const findings = slot.findings.length === 0 ? [] : slot.findings.slice();
    return this.makeEvent(r, s, fd, st.kind, request, rv, slot.argDisplay, null, slot.inNode, incomplete, findings, slot.retInfo, slot);
  }

  private makeEvent(
    r: IoctlRecord, s: number, fd: number, kind: FdKind, request: number, rv: Resolved | null, argDisplay: string,
    payload: StructPayload | null, inNode: FieldNode | null, incomplete: boolean, findings: Finding[], retInfo: RetInfo, slot: CallSlot | null,
  ): IoctlEvent {
    const ev = new IoctlEvent(r, retInfo);
    ev.seq = s;
    const tEntry = tEntryOf(r);
    ev.ts = tEntry >= this.startNum ? tEntry - this.startNum : tEntry;
    ev.dur = incomplete ? null : tExitOf(r) - tEntry;
    ev.pid = r.pid;
    ev.tid = r.tid;
    ev.fd = fd;
    ev.fdPath = r.fdPath;
    ev.fdKind = kind;
    ev.request = request;
    if (rv !== null) {
      ev.ioctl = rv.name;
      ev.family = rv.desc ? rv.desc.family : null;
      ev.candidates = rv.candidates;
      ev.resolution = rv.res;
    }
    ev.argDisplay = argDisplay;
    // Struct payloads: trees on first access; the rest are single nodes, built already.
    if (payload !== null) ev.payload = payload;
    else if (slot !== null && slot.cs !== null) ev.payloadFrom(slot); // a repeated struct call: made when asked for
    else ev.setNodes(inNode, null);
    ev.incomplete = incomplete;
    ev.truncated = (r.flags & IOCTL_FLAG.TRUNCATED) !== 0;
    ev.findings = findings;
    ev.callText = slot;
    return ev;
  }

  private scalarArg(b: Uint8Array, name: string, ctype: string, signed: boolean, fmt: Formatter | null): FieldNode | null {
    if (b.length < 4) return b.length === 0 ? null : { name, path: name, ctype, offset: 0, size: 4, dir: 'in', display: '?', unreadable: true };
    const dv = new DataView(b.buffer, b.byteOffset, 4);
    const n = signed ? dv.getInt32(0, this.le) : dv.getUint32(0, this.le);
    const v = BigInt(n);
    return { name, path: name, ctype, offset: 0, size: 4, dir: 'in', value: v, display: fmt ? fmt(v, n) : String(n) };
  }

  private undecoded(r: IoctlRecord, s: number, e: unknown): DecodedIoctl {
    const incomplete = (r.flags & IOCTL_FLAG.NO_EXIT) !== 0;
    const ret = incomplete ? 0 : Number(r.ret);
    return {
      kind: 'ioctl', seq: s, record: r, ts: this.rel(r.tEntry), dur: incomplete ? null : Number(r.tExit) - Number(r.tEntry),
      pid: r.pid, tid: r.tid, fd: toInt32(r.fd), fdPath: r.fdPath, fdKind: 'other', request: toUint32(r.request),
      ioctl: null, family: null, candidates: [], resolution: 'unknown', argDisplay: regHex(r.arg), in: null, out: null,
      ret: { value: ret, errno: ret < 0 ? errnoName(-ret, this.flavor) : null, meaning: '' },
      incomplete, truncated: (r.flags & IOCTL_FLAG.TRUNCATED) !== 0,
      findings: [{ rule: 'decoder-error', severity: 'info', message: `could not decode this call: ${String(e)}` }],
    };
  }
}

/** What the resolution itself says: its notes, and a pick made by a VFIO_SET_IOMMU that failed. */
function resolutionFindings(rv: Resolved, st: FdState, findings: Finding[]): void {
  for (const n of rv.notes) findings.push({ ...n });
  if (rv.failedPick) {
    findings.push({
      rule: 'resolved-by-failed-set-iommu',
      severity: 'warning',
      message: `resolved with the IOMMU type of a VFIO_SET_IOMMU(${IOMMU_TYPE_NAMES[st.iommu as number] ?? st.iommu}) that failed`,
      ...(st.iommuSeq !== undefined ? { events: [st.iommuSeq] } : {}),
    });
  }
}
