// createDecoder(): raw records in, DecodedEvents out. Resolves which ioctl a
// number means on this fd, decodes entry and exit payloads with the compiled
// descriptions, explains the return value and attaches per-call findings.

import { IOCTL_FLAG, type IoctlRecord, type RecordingHeader, type TraceRecord, ProcessEventKind } from '../trace/events.js';
import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode, Finding, Resolution, RetInfo } from './types.js';
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
import { callHash, callMemoAwake, callMemoDozing, findCall, newCallMemo, rememberCall, type CallMemo, type CallSlot } from './callMemo.js';
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
  const reg = opts.registry;
  const useMemo = opts.callMemo !== false;
  const le = header.byteOrder === 'le';
  const enc = encodingFor(header.arch);
  const flavor = errnoFlavor(header.arch);
  // i386 and other ILP32 ABIs lay the structs out differently: names only.
  const layoutsOk = header.wordSize === 8;
  const start = header.startMonotonicNs;
  const fds = new FdTable();
  const info = new Map<IoctlDesc, DescInfo>();
  let seq = 0;
  const structs = new StructDecoder(le);
  const checks = new CheckRunner(le);

  function descInfo(d: IoctlDesc): DescInfo {
    let di = info.get(d);
    if (!di) {
      di = { struct: d.arg.kind === 'struct' ? structFacts(d.arg.type) : null, intFmt: d.arg.kind === 'int' || d.arg.kind === 'u32ptr' ? makeFormatter(d.arg.display, false) : null };
      info.set(d, di);
    }
    return di;
  }

  // Monotonic ns stay below 2^53 for 104 days of uptime: plain doubles are exact
  // and avoid a bigint allocation per event.
  const startNum = Number(start);
  function rel(t: bigint): number {
    const n = Number(t);
    return n >= startNum ? n - startNum : n;
  }

  const KIND_INDEX: Record<FdKind, number> = { container: 0, group: 1, device: 2, iommufd: 3, migration: 4, dmabuf: 5, other: 6 };
  const resolvedCache = new Map<number, Resolved>();

  function resolveCached(nr: number, cands: readonly IoctlDesc[], kind: FdKind, st: FdState): Resolved {
    const iommu = st.iommu;
    if (iommu !== undefined && (iommu < 0 || iommu > 255)) return resolveIoctl(cands, kind, st, header.arch);
    const stateKey = iommu === undefined ? 0 : 1 + iommu * 2 + (st.iommuFailed ? 1 : 0);
    const key = nr + (KIND_INDEX[kind] << 8) + stateKey * 4096;
    let r = resolvedCache.get(key);
    if (!r) {
      r = resolveIoctl(cands, kind, st, header.arch);
      // A failed pick names the SET_IOMMU event in a finding: not the same for every call.
      if (!r.failedPick && useMemo) r.memo = newCallMemo();
      resolvedCache.set(key, r);
    }
    return r;
  }

  function decodeIoctl(r: IoctlRecord): DecodedIoctl {
    const s = seq++;
    const fd = fdOf(r);
    const incomplete = (r.flags & IOCTL_FLAG.NO_EXIT) !== 0;
    const ret = incomplete ? 0 : retOf(r);
    const st = fds.resolve(r.pid, fd, r.fdPath);
    const kind = st.kind;
    const request = requestOf(r);
    const nr = decodeIo(enc, request);
    const cands = nr >= 0 ? reg.byNr.get(nr) : undefined;
    const rv = cands && cands.length > 0 ? resolveCached(nr, cands, kind, st) : null;
    let h: number | null = null;
    if (rv !== null && rv.memo !== null && !callMemoDozing(rv.memo)) {
      h = callHash(r, request, ret);
      if (h !== null && !callMemoAwake(rv.memo, h)) h = null;
      if (h !== null) {
        const slot = findCall(rv.memo, h, r, request, ret);
        if (slot !== undefined) return repeated(r, s, fd, st, request, rv, slot, incomplete, ret);
      }
    }
    const findings: Finding[] = [];
    let desc: IoctlDesc | null = null;
    let candidates: string[] = [];
    let resolution: Resolution = 'unknown';
    let ioctlName: string | null = null;
    if (rv !== null) {
      resolution = rv.res;
      candidates = rv.candidates;
      desc = rv.desc;
      ioctlName = rv.name;
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

    const errno = !incomplete && ret < 0 ? errnoName(-ret, flavor) ?? `E?${-ret}` : null;
    let inNode: FieldNode | null = null;
    let payload: StructPayload | null = null;
    let written = false;
    let inVals: Vals = {};
    let outVals: Vals | null = null;
    let argDisplay = '';
    const argNum = argOf(r);

    if ((r.flags & IOCTL_FLAG.TRUNCATED) !== 0) {
      findings.push({ rule: 'capture-truncated', severity: 'info', message: `captured ${r.entry.length} of ${r.wantLen} bytes (payload cap); later fields are not shown` });
    }

    if (desc) {
      const di = descInfo(desc);
      const a = desc.arg;
      if (a.kind === 'int') {
        // The ioctl's arg is an unsigned long: a value with the top bit set is
        // shown as the kernel reads it, not as a negative number.
        argDisplay = argNum >= 0 || a.display.kind === 'fd' || a.display.kind === 'dec'
          ? (di.intFmt as Formatter)(BigInt(argNum), argNum)
          : '0x' + BigInt.asUintN(header.wordSize * 8, r.arg).toString(16);
      }
      else if (a.kind !== 'none') argDisplay = argPointer(r);
      faultFindings(desc, r, argDisplay, errno, incomplete, le, findings);
      if (a.kind === 'struct' && layoutsOk) {
        const res = structs.decode(desc, di.struct as StructFacts, r, ret, errno, incomplete, findings);
        payload = res.payload;
        inVals = res.inVals;
        outVals = res.outVals;
        written = payload.exit !== null;
      } else if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
        inNode = scalarArg(r.entry, a.kind === 'fdptr' ? 'fd' : a.name, a.kind === 'fdptr' ? '__s32' : '__u32', a.kind === 'fdptr', di.intFmt);
        if (inNode?.value !== undefined) inVals[inNode.name] = Number(inNode.value);
      } else if (a.kind === 'cstring') {
        // No string at all (NULL, or nothing readable): the pointer, as strace shows it, not "".
        const display = r.arg === 0n ? 'NULL' : r.inFault === 0 ? regHex(r.arg) : `"${escapeBytes(r.entry)}"${(r.flags & IOCTL_FLAG.TRUNCATED) !== 0 ? '...' : ''}`;
        inNode = { name: 'buf', path: 'buf', ctype: 'char[]', offset: 0, size: r.entry.length, dir: 'in', text: rawText(r.entry), display };
      }
      if (!(a.kind === 'struct' && !layoutsOk)) checks.run(desc, { inVals, outVals, ret, errno, entry: r.entry, completed: !incomplete }, findings);
    }
    if (!desc) argDisplay = argHex(r);
    if (!layoutsOk && desc && desc.arg.kind === 'struct') {
      findings.push({ rule: 'abi-unsupported', severity: 'info', message: `struct layouts are described for LP64 only; ${header.arch} (word size ${header.wordSize}) payloads are not decoded` });
    }

    const retInfo = explainReturn({ desc, incomplete, ret, errno, inVals, outVals, arg: argNum, kind, fdPath: r.fdPath, findings });
    aftermath(r, s, st, desc, retInfo, argNum, incomplete, ret);
    let slot: CallSlot | null = null;
    if (h !== null && rv !== null && rv.memo !== null) {
      slot = rememberCall(rv.memo, h, r, request, ret, {
        argDisplay, findings, retInfo, cs: payload !== null ? payload.cs : null, argsz: payload !== null ? payload.argsz : 0,
        limit: payload !== null ? payload.limit : 0, written, le, inNode,
      });
    }
    return makeEvent(r, s, fd, kind, request, ioctlName, desc, candidates, resolution, argDisplay, payload, inNode, incomplete, findings, retInfo, slot);
  }

  /** Remember what a call created or changed. */
  function aftermath(r: IoctlRecord, s: number, st: FdState, desc: IoctlDesc | null, retInfo: RetInfo, argNum: number, incomplete: boolean, ret: number): void {
    if (retInfo.newFd) fds.created(r.pid, retInfo.newFd.fd, retInfo.newFd.kind);
    if (desc && desc.name === SET_IOMMU && (st.kind === 'container' || st.kind === 'iommufd')) {
      st.iommu = argNum;
      st.iommuFailed = incomplete || ret < 0;
      st.iommuSeq = s;
    }
  }

  /** A call decoded before, byte for byte: its results again, with this record's bytes and times. */
  function repeated(r: IoctlRecord, s: number, fd: number, st: FdState, request: number, rv: Resolved, slot: CallSlot, incomplete: boolean, ret: number): DecodedIoctl {
    const argNum = argOf(r);
    aftermath(r, s, st, rv.desc, slot.retInfo, argNum, incomplete, ret);
    const findings = slot.findings.length === 0 ? [] : slot.findings.slice();
    return makeEvent(r, s, fd, st.kind, request, rv.name, rv.desc, rv.candidates, rv.res, slot.argDisplay, null, slot.inNode, incomplete, findings, slot.retInfo, slot);
  }

  function makeEvent(
    r: IoctlRecord, s: number, fd: number, kind: FdKind, request: number, ioctlName: string | null, desc: IoctlDesc | null, candidates: string[],
    resolution: Resolution, argDisplay: string, payload: StructPayload | null, inNode: FieldNode | null, incomplete: boolean, findings: Finding[],
    retInfo: RetInfo, slot: CallSlot | null,
  ): IoctlEvent {
    const ev = new IoctlEvent(r, retInfo);
    ev.seq = s;
    const tEntry = tEntryOf(r);
    ev.ts = tEntry >= startNum ? tEntry - startNum : tEntry;
    ev.dur = incomplete ? null : tExitOf(r) - tEntry;
    ev.pid = r.pid;
    ev.tid = r.tid;
    ev.fd = fd;
    ev.fdPath = r.fdPath;
    ev.fdKind = kind;
    ev.request = request;
    ev.ioctl = ioctlName;
    ev.family = desc ? desc.family : null;
    ev.candidates = candidates;
    ev.resolution = resolution;
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

  function scalarArg(b: Uint8Array, name: string, ctype: string, signed: boolean, fmt: Formatter | null): FieldNode | null {
    if (b.length < 4) return b.length === 0 ? null : { name, path: name, ctype, offset: 0, size: 4, dir: 'in', display: '?', unreadable: true };
    const dv = new DataView(b.buffer, b.byteOffset, 4);
    const n = signed ? dv.getInt32(0, le) : dv.getUint32(0, le);
    const v = BigInt(n);
    return { name, path: name, ctype, offset: 0, size: 4, dir: 'in', value: v, display: fmt ? fmt(v, n) : String(n) };
  }

  function undecoded(r: IoctlRecord, s: number, e: unknown): DecodedIoctl {
    const incomplete = (r.flags & IOCTL_FLAG.NO_EXIT) !== 0;
    const ret = incomplete ? 0 : Number(r.ret);
    return {
      kind: 'ioctl', seq: s, record: r, ts: rel(r.tEntry), dur: incomplete ? null : Number(r.tExit) - Number(r.tEntry),
      pid: r.pid, tid: r.tid, fd: toInt32(r.fd), fdPath: r.fdPath, fdKind: 'other', request: toUint32(r.request),
      ioctl: null, family: null, candidates: [], resolution: 'unknown', argDisplay: regHex(r.arg), in: null, out: null,
      ret: { value: ret, errno: ret < 0 ? errnoName(-ret, flavor) : null, meaning: '' },
      incomplete, truncated: (r.flags & IOCTL_FLAG.TRUNCATED) !== 0,
      findings: [{ rule: 'decoder-error', severity: 'info', message: `could not decode this call: ${String(e)}` }],
    };
  }

  return {
    decode(record: TraceRecord): DecodedEvent {
      switch (record.type) {
        case 'ioctl': {
          const s = seq;
          try {
            return decodeIoctl(record);
          } catch (e) {
            // A decoder bug must not lose the event: show it undecoded.
            seq = s + 1;
            return undecoded(record, s, e);
          }
        }
        case 'process': {
          if (record.kind === ProcessEventKind.Start && record.other > 0) fds.fork(record.other, record.pid);
          if ((record.kind === ProcessEventKind.Exit || record.kind === ProcessEventKind.Killed) && record.pid === record.tid) fds.exit(record.pid);
          if (record.kind === ProcessEventKind.Exec) fds.exec(record.pid);
          return { kind: 'process', seq: seq++, record, ts: rel(record.ts), pid: record.pid, tid: record.tid };
        }
        case 'end':
          return { kind: 'end', seq: seq++, record };
      }
    },
    fdKind(pid: number, fd: number): FdKind {
      return fds.get(pid, fd)?.kind ?? 'other';
    },
    createdFd(pid: number, fd: number, kind: FdKind): void {
      fds.created(pid, fd, kind);
    },
  };
}
