// One QEMU-like sPAPR + EEH passthrough session, described once and encoded
// for any architecture: the same calls, the same struct values, laid out in
// that host's byte order with its ioctl encoding. Field offsets come from the
// decoders/ descriptions (looked up by C name), never typed here.
//
// The golden recordings under test/golden/ are this scenario written with
// src/trace/writer.ts; golden.test.ts regenerates them with UPDATE_GOLDEN=1.

import type { IoctlDesc, StructType, Type } from '../../src/decode/dsl.js';
import { encodeIo } from '../../src/decode/encoding.js';
import { registry } from '../../src/decode/registry.js';
import { EndReason, ProcessEventKind, RuleKind } from '../../src/trace/events.js';
import { RecordingWriter, makeHeader, type NewRecord } from '../../src/trace/writer.js';

type FdKind = 'container' | 'group' | 'device';
type Values = Record<string, bigint | number>;

interface Step {
  fd: number;
  kind: FdKind;
  ioctl: string;
  /** Struct fields at entry, by dotted C path ("err.type", "ddw.pgsizes"). */
  in?: Values;
  /** Fields the kernel writes back. */
  out?: Values;
  /** Integer argument, pointed-to fd, or C string. */
  arg?: number;
  fdArg?: number;
  str?: string;
  ret?: number;
  /** SET_IRQS eventfds: __s32 elements after the fixed struct. */
  eventfds?: number[];
  /** Capabilities the kernel writes into the exit buffer: a struct (by C tag) at a byte offset. */
  caps?: { at: number; struct: string; values: Values }[];
}

const PID = 7310;
const C = 3; // container
const G = 4; // group
const D = 5; // device
const PATHS: Record<FdKind, string> = {
  container: '/dev/vfio/vfio',
  group: '/dev/vfio/1',
  device: 'anon_inode:[vfio-device]',
};

const EINVAL = -22;
// VFIO_SPAPR_TCE_v2_IOMMU, VFIO_EEH (extension numbers)
const SPAPR_TCE_V2 = 7;
const EXT_EEH = 5;
// EEH ops and states, as QEMU's sPAPR EEH code issues them
const OP = { ENABLE: 1, GET_STATE: 4, RESET_DEACTIVATE: 5, RESET_HOT: 6, CONFIGURE: 8, INJECT_ERR: 9 } as const;
const STATE = { NORMAL: 0, STOPPED: 2 } as const;

const eeh = (op: number, ret = 0, extra: Values = {}): Step => ({
  fd: C, kind: 'container', ioctl: 'VFIO_EEH_PE_OP', in: { argsz: op === OP.INJECT_ERR ? 40 : 12, flags: 0, op, ...extra }, ret,
});

/** The session: setup, DMA windows, the device, then an injected error and its recovery. */
export const SPAPR_EEH_SESSION: readonly Step[] = [
  { fd: C, kind: 'container', ioctl: 'VFIO_GET_API_VERSION' },
  { fd: C, kind: 'container', ioctl: 'VFIO_CHECK_EXTENSION', arg: SPAPR_TCE_V2, ret: 1 },
  { fd: G, kind: 'group', ioctl: 'VFIO_GROUP_GET_STATUS', in: { argsz: 8, flags: 0 }, out: { flags: 1 } },
  { fd: G, kind: 'group', ioctl: 'VFIO_GROUP_SET_CONTAINER', fdArg: C },
  { fd: C, kind: 'container', ioctl: 'VFIO_SET_IOMMU', arg: SPAPR_TCE_V2 },
  { fd: C, kind: 'container', ioctl: 'VFIO_CHECK_EXTENSION', arg: EXT_EEH, ret: 1 },
  {
    fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', in: { argsz: 32 },
    out: { flags: 1, dma32_window_start: 0, dma32_window_size: 0x40000000, 'ddw.pgsizes': 0x1011000, 'ddw.max_dynamic_windows_supported': 2, 'ddw.levels': 5 },
  },
  { fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', in: { argsz: 24, flags: 0, vaddr: 0x7fff80000000n, size: 0x80000000 } },
  // QEMU removes the default 32-bit window, then creates its own ones.
  { fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_SPAPR_TCE_REMOVE', in: { argsz: 16, flags: 0, start_addr: 0 } },
  { fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_SPAPR_TCE_CREATE', in: { argsz: 40, flags: 0, page_shift: 16, window_size: 0x40000000, levels: 1 }, out: { start_addr: 0 } },
  {
    fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_SPAPR_TCE_CREATE', in: { argsz: 40, flags: 0, page_shift: 16, window_size: 0x800000000n, levels: 2 },
    out: { start_addr: 0x800000000000000n },
  },
  { fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_MAP_DMA', in: { argsz: 32, flags: 3, vaddr: 0x7fff80000000n, iova: 0, size: 0x40000000 } },
  { fd: G, kind: 'group', ioctl: 'VFIO_GROUP_GET_DEVICE_FD', str: '0001:00:01.0', ret: D },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_INFO', in: { argsz: 24 }, out: { flags: 3, num_regions: 9, num_irqs: 5 } },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_REGION_INFO', in: { argsz: 32, index: 0 }, out: { flags: 7, size: 0x800000, offset: 0 } },
  // BAR2 has a sparse-mmap capability that does not fit: the kernel asks for more room, QEMU retries.
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_REGION_INFO', in: { argsz: 32, index: 2 }, out: { argsz: 80, flags: 15, cap_offset: 0, size: 0x20000, offset: 0x20000000000n } },
  {
    fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_REGION_INFO', in: { argsz: 80, index: 2 }, out: { flags: 15, cap_offset: 32, size: 0x20000, offset: 0x20000000000n },
    caps: [{ at: 32, struct: 'vfio_region_info_cap_sparse_mmap', values: { 'header.id': 1, 'header.version': 1, 'header.next': 0, nr_areas: 2, 'areas[0].offset': 0, 'areas[0].size': 0x8000, 'areas[1].offset': 0x10000, 'areas[1].size': 0x10000 } }],
  },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_IRQ_INFO', in: { argsz: 16, index: 2 }, out: { flags: 9, count: 8 } },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_SET_IRQS', in: { argsz: 28, flags: 0x24, index: 2, start: 0, count: 2 }, eventfds: [10, -1] },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_GET_IRQ_INFO', in: { argsz: 16, index: 3 }, out: { flags: 9, count: 1 } },
  { fd: D, kind: 'device', ioctl: 'VFIO_DEVICE_SET_IRQS', in: { argsz: 24, flags: 0x24, index: 3, start: 0, count: 1 }, eventfds: [12] },
  eeh(OP.ENABLE),
  eeh(OP.GET_STATE, STATE.NORMAL),
  eeh(OP.INJECT_ERR, 0, { 'err.type': 1, 'err.func': 13, 'err.addr': 0x8000000000n, 'err.mask': 0xffffffffffff0000n }),
  eeh(OP.GET_STATE, STATE.STOPPED),
  // A buggy caller: flags must be 0.
  eeh(OP.RESET_HOT, EINVAL, { flags: 1 }),
  eeh(OP.RESET_HOT),
  eeh(OP.RESET_DEACTIVATE),
  eeh(OP.CONFIGURE),
  eeh(OP.GET_STATE, STATE.NORMAL),
  { fd: C, kind: 'container', ioctl: 'VFIO_IOMMU_UNMAP_DMA', in: { argsz: 24, flags: 0, iova: 0, size: 0x40000000 }, out: { size: 0x40000000 } },
];

function describe(name: string, kind: FdKind): IoctlDesc {
  const all = registry().byName.get(name) ?? [];
  const d = all.find((x) => x.fdKinds.includes(kind)) ?? all[0];
  if (!d) throw new Error(`no description for ${name}`);
  return d;
}

/** Offset and scalar size of a dotted field path; anonymous unions/structs are looked through. */
function locate(t: StructType, path: string): { offset: number; size: number } {
  const [first, ...rest] = path.split('.');
  // "areas[1]": element 1 of an array or flexible array member
  const m = /^(\w+)(?:\[(\d+)\])?$/.exec(first ?? '');
  if (!m) throw new Error(`bad field path ${path}`);
  const head = m[1];
  const index = m[2] === undefined ? null : Number(m[2]);
  const search = (s: StructType, base: number): { offset: number; type: Type } | null => {
    for (let k = 0; k < s.fields.length; k++) {
      const f = s.fields[k]!;
      const off = base + s.offsets[k]!;
      if (f.name === head) {
        if (index === null) return { offset: off, type: f.type };
        if (f.type.kind !== 'array' && f.type.kind !== 'flex') throw new Error(`${path}: ${String(head)} is not an array`);
        return { offset: off + index * f.type.elem.size, type: f.type.elem };
      }
      if (f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union')) {
        const inner = search(f.type, off);
        if (inner) return inner;
      }
    }
    return null;
  };
  const hit = search(t, 0);
  if (!hit) throw new Error(`struct ${t.name} has no field ${String(head)}`);
  if (rest.length > 0) {
    if (hit.type.kind !== 'struct' && hit.type.kind !== 'union') throw new Error(`${path}: ${String(head)} is not a struct`);
    const inner = locate(hit.type, rest.join('.'));
    return { offset: hit.offset + inner.offset, size: inner.size };
  }
  if (hit.type.kind !== 'scalar') throw new Error(`${path} is not a scalar`);
  return { offset: hit.offset, size: hit.type.size };
}

function fill(bytes: Uint8Array, t: StructType, v: Values, le: boolean): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [name, val] of Object.entries(v)) {
    const { offset, size } = locate(t, name);
    if (offset + size > bytes.length) throw new Error(`${t.name}.${name} lies beyond argsz`);
    const x = BigInt.asUintN(size * 8, BigInt(val));
    if (size === 1) dv.setUint8(offset, Number(x));
    else if (size === 2) dv.setUint16(offset, Number(x), le);
    else if (size === 4) dv.setUint32(offset, Number(x), le);
    else dv.setBigUint64(offset, x, le);
  }
}

/** The session as records of `arch` (byte order and request encoding follow from it). */
export function spaprEehRecords(arch: string): { header: ReturnType<typeof makeHeader>; records: NewRecord[] } {
  const header = makeHeader({
    arch,
    startRealtimeNs: 1_767_350_000_000_000_000n,
    startMonotonicNs: 5_000_000_000n,
    kernelRelease: '6.12.0-power',
    hostname: 'golden',
    argv: ['qemu-system-ppc64', '-machine', 'pseries', '-device', 'vfio-pci,host=0001:00:01.0'],
    producer: 'vfiotrace-record 0.1.0',
  });
  const le = header.byteOrder === 'le';
  const t0 = header.startMonotonicNs;
  const records: NewRecord[] = [
    { type: 'process', kind: ProcessEventKind.Start, pid: PID, tid: PID, ts: t0, value: 0, other: 1, text: 'qemu-system-ppc64' },
  ];
  SPAPR_EEH_SESSION.forEach((s, k) => {
    const d = describe(s.ioctl, s.kind);
    let entry = new Uint8Array(0);
    let exit = entry;
    let ruleKind = RuleKind.None;
    let arg = BigInt(s.arg ?? 0);
    const a = d.arg;
    if (a.kind === 'struct') {
      ruleKind = RuleKind.Sized;
      entry = new Uint8Array(Number(s.in?.argsz ?? a.type.size));
      fill(entry, a.type, s.in ?? {}, le);
      const data = new DataView(entry.buffer);
      s.eventfds?.forEach((fd, j) => data.setInt32(a.type.size + 4 * j, fd, le));
      exit = entry.slice();
      if (s.out && (s.ret ?? 0) >= 0) fill(exit, a.type, s.out, le);
      for (const cap of s.caps ?? []) {
        const t = registry().structs.get(cap.struct);
        if (!t) throw new Error(`no struct ${cap.struct}`);
        fill(exit.subarray(cap.at), t, cap.values, le);
      }
      arg = 0x7fffc0001000n + BigInt(k) * 0x100n;
    } else if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
      ruleKind = RuleKind.Fixed;
      entry = new Uint8Array(4);
      new DataView(entry.buffer).setInt32(0, s.fdArg ?? 0, le);
      exit = entry.slice();
      arg = 0x7fffc0000ff0n;
    } else if (a.kind === 'cstring') {
      ruleKind = RuleKind.CString;
      entry = new TextEncoder().encode(s.str ?? '');
      exit = entry.slice();
      arg = 0x7fffc0000f00n;
    } else if (a.kind === 'int') {
      ruleKind = RuleKind.Integer;
    }
    const tEntry = t0 + 1_000_000n * BigInt(k + 1);
    records.push({
      type: 'ioctl', flags: 0, pid: PID, tid: PID, tEntry, tExit: tEntry + 3_000n + BigInt(k) * 250n,
      fd: BigInt(s.fd), request: BigInt(encodeIo(arch, d.nr)), arg, ret: BigInt(s.ret ?? 0),
      wantLen: entry.length, inFault: null, outFault: null, ruleKind, fdPath: PATHS[s.kind], entry, exit,
    });
  });
  const tEnd = t0 + 1_000_000n * BigInt(SPAPR_EEH_SESSION.length + 1);
  records.push({ type: 'process', kind: ProcessEventKind.Exit, pid: PID, tid: PID, ts: tEnd, value: 0, other: 0, text: '' });
  records.push({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(SPAPR_EEH_SESSION.length), text: '' });
  return { header, records };
}

/** The golden recording's bytes for `arch`. */
export function spaprEehRecording(arch: string): Uint8Array {
  const { header, records } = spaprEehRecords(arch);
  const w = new RecordingWriter(header);
  for (const r of records) w.write(r);
  return w.toBytes();
}
