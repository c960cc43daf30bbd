// One QEMU-like sPAPR + EEH passthrough session, described once and encoded
// for any architecture: the same calls, the same struct values, laid out in
// that host's byte order with its ioctl encoding. Field offsets come from the
// decoders/ descriptions (looked up by C name), never typed here.
//
// The golden recordings under test/golden/ are this scenario written with
// src/trace/writer.ts; golden.test.ts regenerates them with UPDATE_GOLDEN=1.

import { encodeIo } from '../../src/decode/encoding.js';
import { registry } from '../../decoders/index.js';
import { StructBuf } from '../../src/emulate/encode.js';
import { EndReason, ProcessEventKind } from '../../src/trace/events.js';
import { RecordingWriter, makeHeader, type NewRecord } from '../../src/trace/writer.js';
import { describeIoctl, payload, type Values } from '../helpers/payload.js';

type FdKind = 'container' | 'group' | 'device';

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
    const d = describeIoctl(s.ioctl, s.kind);
    const failed = (s.ret ?? 0) < 0;
    const { entry, exit, ruleKind, pointer } = payload(d, { ...s, data: s.eventfds, ...(failed ? { out: undefined } : {}) }, le);
    for (const cap of s.caps ?? []) {
      const t = registry().structs.get(cap.struct);
      if (!t) throw new Error(`no struct ${cap.struct}`);
      new StructBuf(t, exit.subarray(cap.at), le).setAll(cap.values);
    }
    const arg = !pointer ? BigInt(s.arg ?? 0) : d.arg.kind === 'struct' ? 0x7fffc0001000n + BigInt(k) * 0x100n : d.arg.kind === 'cstring' ? 0x7fffc0000f00n : 0x7fffc0000ff0n;
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
