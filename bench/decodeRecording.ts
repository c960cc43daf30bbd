// Synthesizes a large recording of a POWER (ppc64le, sPAPR v2 + EEH) VFIO
// session for the decoding benchmark: set-up, then a steady mix of MAP/UNMAP
// DMA, EEH PE ops, region infos with capability chains, SET_IRQS with
// eventfds, IRQ infos and a few failing calls. Payload layouts come from the
// decoders/ descriptions by C field name; nothing here types an offset.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { StructType } from '../src/decode/dsl.js';
import type { IoctlDesc } from '../src/decode/ioctlDesc.js';
import { encodeIo } from '../src/decode/encoding.js';
import { registry } from '../decoders/index.js';
import { capsReply } from '../src/emulate/ctx.js';
import { StructBuf, encodeStruct } from '../src/emulate/encode.js';
import { VFIO_EEH, VFIO_SPAPR_TCE_v2_IOMMU } from '../decoders/container.js';
import {
  VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_NORESIZE, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, VFIO_REGION_INFO_CAP_SPARSE_MMAP, VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
} from '../decoders/device.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_STATE_NORMAL,
} from '../decoders/eeh.js';
import { VFIO_GROUP_FLAGS_VIABLE } from '../decoders/group.js';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../decoders/irqs.js';
import { VFIO_IOMMU_SPAPR_INFO_DDW } from '../decoders/spapr.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from '../decoders/type1.js';
import { EndReason, ProcessEventKind, RuleKind } from '../src/trace/events.js';
import { encodeHeader, encodeRecord, makeHeader, type NewRecord } from '../src/trace/writer.js';

const ARCH = 'ppc64le';
const LE = true;
const PID = 7311;
const C = { fd: 3, path: '/dev/vfio/vfio', kind: 'container' } as const;
const G = { fd: 4, path: '/dev/vfio/42', kind: 'group' } as const;
const D = { fd: 5, path: 'anon_inode:[vfio-device]', kind: 'device' } as const;
type Fd = typeof C | typeof G | typeof D;

function desc(name: string, kind: string): IoctlDesc {
  const all = registry().byName.get(name) ?? [];
  const d = all.find((x) => x.fdKinds.includes(kind as never) && (x.backends === 'any' || x.backends.includes('spapr-v2'))) ?? all[0];
  if (!d) throw new Error(`decoders/ has no ${name}`);
  return d;
}

function structOf(d: IoctlDesc): StructType {
  if (d.arg.kind !== 'struct') throw new Error(`${d.name} takes no struct`);
  return d.arg.type;
}

function capType(t: StructType, id: number): StructType {
  for (const f of t.fields) if (f.type.kind === 'caps') {
    const c = f.type.caps.get(id);
    if (c) return c.type;
  }
  throw new Error(`${t.name}: no capability ${id}`);
}

interface Call {
  entry?: Uint8Array;
  exit?: Uint8Array;
  arg?: bigint;
  ret?: number;
}

function record(fd: Fd, name: string, c: Call): NewRecord {
  const d = desc(name, fd.kind);
  const entry = c.entry ?? new Uint8Array(0);
  const kind =
    d.arg.kind === 'struct' ? RuleKind.Sized
    : d.arg.kind === 'int' ? RuleKind.Integer
    : d.arg.kind === 'cstring' ? RuleKind.CString
    : d.arg.kind === 'none' ? RuleKind.None
    : RuleKind.Fixed;
  return {
    type: 'ioctl', flags: 0, pid: PID, tid: PID, tEntry: 0n, tExit: 0n, fd: BigInt(fd.fd),
    request: BigInt(encodeIo(ARCH, d.nr)), arg: c.arg ?? (entry.length ? 0x7fffe2a0c000n : 0n), ret: BigInt(c.ret ?? 0),
    wantLen: entry.length, inFault: null, outFault: null, ruleKind: kind, fdPath: fd.path, entry, exit: c.exit ?? entry.slice(),
  };
}

function sized(name: string, kind: string, values: Record<string, bigint | number>, size?: number): { t: StructType; bytes: Uint8Array } {
  const t = structOf(desc(name, kind));
  const s = size ?? t.size;
  return { t, bytes: encodeStruct(t, { argsz: s, ...values }, LE, s) };
}

const map = (iova: bigint, ret = 0) => {
  const { bytes } = sized('VFIO_IOMMU_MAP_DMA', 'container', { flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, vaddr: 0x7fff80000000n + iova, iova, size: 0x10000 });
  return record(C, 'VFIO_IOMMU_MAP_DMA', { entry: bytes, ret });
};
const unmap = (iova: bigint) => {
  const { t, bytes } = sized('VFIO_IOMMU_UNMAP_DMA', 'container', { iova, size: 0x10000 });
  return record(C, 'VFIO_IOMMU_UNMAP_DMA', { entry: bytes, exit: new StructBuf(t, bytes.slice(), LE).set('size', 0x10000).bytes });
};
const eeh = (op: number, ret = 0, flags = 0) => record(C, 'VFIO_EEH_PE_OP', { entry: sized('VFIO_EEH_PE_OP', 'container', { op, flags }).bytes, ret });

/** Region info with a capability chain (sparse mmap + MSI-X mappable) for BARs, none for config space. */
function regionInfo(index: number): NewRecord {
  const d = desc('VFIO_DEVICE_GET_REGION_INFO', 'device');
  const t = structOf(d);
  const room = 128;
  const entry = encodeStruct(t, { argsz: room, index }, LE, room);
  const info = new StructBuf(t, entry.slice(), LE).setAll({
    flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | (index < 6 ? VFIO_REGION_INFO_FLAG_MMAP : 0),
    size: index === VFIO_PCI_CONFIG_REGION_INDEX ? 0x1000 : 0x4000,
    offset: BigInt(index) << 40n,
  });
  const caps: { type: StructType; bytes: Uint8Array }[] = [];
  if (index < 6) {
    const sp = capType(t, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
    const areas = 2;
    const flexAt = sp.size;
    const b = new StructBuf(sp, flexAt + areas * 16, LE).setAll({
      'header.id': VFIO_REGION_INFO_CAP_SPARSE_MMAP, 'header.version': 1, nr_areas: areas,
      'areas[0].offset': 0, 'areas[0].size': 0x2000, 'areas[1].offset': 0x3000, 'areas[1].size': 0x1000,
    });
    caps.push({ type: sp, bytes: b.bytes });
    const mx = capType(t, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
    caps.push({ type: mx, bytes: encodeStruct(mx, { id: VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, version: 1 }, LE) });
  }
  const reply = capsReply(info, caps, VFIO_REGION_INFO_FLAG_CAPS, d.minsz);
  const exit = entry.slice();
  exit.set(reply.subarray(0, Math.min(reply.length, exit.length)));
  return record(D, 'VFIO_DEVICE_GET_REGION_INFO', { entry, exit });
}

function setIrqs(count: number, firstFd: number): NewRecord {
  const t = structOf(desc('VFIO_DEVICE_SET_IRQS', 'device'));
  const size = t.size + 4 * count;
  const b = encodeStruct(t, { argsz: size, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index: VFIO_PCI_MSIX_IRQ_INDEX, start: 0, count }, LE, size);
  const dv = new DataView(b.buffer);
  for (let k = 0; k < count; k++) dv.setInt32(t.size + 4 * k, firstFd + k, LE); // data[]: one eventfd per vector
  return record(D, 'VFIO_DEVICE_SET_IRQS', { entry: b });
}

function irqInfo(index: number): NewRecord {
  const { t, bytes } = sized('VFIO_DEVICE_GET_IRQ_INFO', 'device', { index });
  const exit = new StructBuf(t, bytes.slice(), LE).setAll({ flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, count: index === VFIO_PCI_MSIX_IRQ_INDEX ? 64 : 1 }).bytes;
  return record(D, 'VFIO_DEVICE_GET_IRQ_INFO', { entry: bytes, exit });
}

function tceInfo(): NewRecord {
  const { t, bytes } = sized('VFIO_IOMMU_SPAPR_TCE_GET_INFO', 'container', {});
  const exit = new StructBuf(t, bytes.slice(), LE).setAll({ flags: VFIO_IOMMU_SPAPR_INFO_DDW, dma32_window_start: 0, dma32_window_size: 0x80000000, 'ddw.pgsizes': 0x1011000, 'ddw.max_dynamic_windows_supported': 1, 'ddw.levels': 5 }).bytes;
  return record(C, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', { entry: bytes, exit });
}

function setup(): NewRecord[] {
  const status = sized('VFIO_GROUP_GET_STATUS', 'group', {});
  const group = new Uint8Array(4);
  new DataView(group.buffer).setInt32(0, C.fd, LE);
  return [
    record(C, 'VFIO_GET_API_VERSION', {}),
    record(C, 'VFIO_CHECK_EXTENSION', { arg: BigInt(VFIO_SPAPR_TCE_v2_IOMMU), ret: 1 }),
    record(G, 'VFIO_GROUP_GET_STATUS', { entry: status.bytes, exit: new StructBuf(status.t, status.bytes.slice(), LE).set('flags', VFIO_GROUP_FLAGS_VIABLE).bytes }),
    record(G, 'VFIO_GROUP_SET_CONTAINER', { entry: group }),
    record(C, 'VFIO_SET_IOMMU', { arg: BigInt(VFIO_SPAPR_TCE_v2_IOMMU) }),
    record(C, 'VFIO_CHECK_EXTENSION', { arg: BigInt(VFIO_EEH), ret: 1 }),
    tceInfo(),
    eeh(VFIO_EEH_PE_ENABLE),
    record(G, 'VFIO_GROUP_GET_DEVICE_FD', { entry: new TextEncoder().encode('0000:06:0d.0'), ret: D.fd }),
    ...Array.from({ length: 9 }, (_, k) => regionInfo(k)),
    irqInfo(VFIO_PCI_MSIX_IRQ_INDEX),
  ];
}

/** One round of steady-state traffic (20 calls); `r` varies addresses and, now and then, adds a failure. */
function round(r: number): NewRecord[] {
  const base = BigInt(r % 4096) * 0x100000n;
  const out: NewRecord[] = [];
  for (let k = 0; k < 5; k++) out.push(map(base + BigInt(k) * 0x10000n, r % 97 === 0 && k === 4 ? -22 : 0));
  for (let k = 0; k < 4; k++) out.push(unmap(base + BigInt(k) * 0x10000n));
  for (let k = 0; k < 3; k++) out.push(eeh(VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_STATE_NORMAL));
  out.push(r % 50 === 0 ? eeh(VFIO_EEH_PE_RESET_HOT, 0, 1) : eeh(VFIO_EEH_PE_CONFIGURE));
  out.push(regionInfo(r % 6), regionInfo(VFIO_PCI_CONFIG_REGION_INDEX));
  out.push(setIrqs(4, 20 + (r % 8)), setIrqs(1, 30));
  out.push(irqInfo(r % 5));
  out.push(record(C, 'VFIO_CHECK_EXTENSION', { arg: BigInt(VFIO_EEH), ret: 1 }));
  out.push(tceInfo());
  return out;
}

/** Writes `events` ioctl records (plus START, EXIT and END) to `file`; returns its size in bytes. */
export function writeDecodeRecording(file: string, events: number): number {
  const header = makeHeader({ arch: ARCH, machine: ARCH, hostname: 'p9-bench', argv: ['qemu-system-ppc64', '-M', 'pseries'] });
  // Encode a few hundred distinct records once, then reuse them with fresh times.
  const templates = setup().map((r) => encodeRecord(r, 'le'));
  const firstSteady = templates.length;
  for (let r = 0; r < 200; r++) for (const rec of round(r)) templates.push(encodeRecord(rec, 'le'));
  const fd = openSync(file, 'w');
  let size = 0;
  let buf = Buffer.allocUnsafe(1 << 22);
  let used = 0;
  const put = (b: Uint8Array): void => {
    if (used + b.length > buf.length) {
      size += writeSync(fd, buf, 0, used);
      used = 0;
      if (b.length > buf.length) buf = Buffer.allocUnsafe(b.length);
    }
    buf.set(b, used);
    used += b.length;
  };
  try {
    put(encodeHeader(header));
    put(encodeRecord({ type: 'process', kind: ProcessEventKind.Start, pid: PID, tid: PID, ts: 1000n, value: 0, other: 0, text: 'qemu-system-ppc64' }, 'le'));
    let t = 10_000n;
    for (let i = 0; i < events; i++) {
      const tpl = i < firstSteady ? templates[i]! : templates[firstSteady + ((i - firstSteady) % (templates.length - firstSteady))]!;
      const at = used + tpl.length <= buf.length ? used : 0;
      put(tpl);
      const dv = new DataView(buf.buffer, buf.byteOffset + at, tpl.length);
      t += 1_700n;
      dv.setBigUint64(16, t, LE); // t_entry, t_exit (docs/recording-format.md)
      dv.setBigUint64(24, t + 900n, LE);
    }
    put(encodeRecord({ type: 'process', kind: ProcessEventKind.Exit, pid: PID, tid: PID, ts: t + 5000n, value: 0, other: 0, text: '' }, 'le'));
    put(encodeRecord({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(events), text: '' }, 'le'));
    size += writeSync(fd, buf, 0, used);
  } finally {
    closeSync(fd);
  }
  return size;
}

/**
 * One round (20 calls) of traffic where no call repeats an earlier one: DMA
 * maps and unmaps at IOVAs never used before, SET_IRQS with fresh eventfds,
 * and region/IRQ infos and EEH ops whose argument buffer sits at a new
 * address each time (as a caller's stack or heap buffer would).
 */
function distinctRound(r: number): NewRecord[] {
  const base = BigInt(r) * 0x100000n;
  const out: NewRecord[] = [];
  for (let k = 0; k < 7; k++) out.push(map(base + BigInt(k) * 0x10000n, r % 97 === 0 && k === 6 ? -22 : 0));
  for (let k = 0; k < 7; k++) out.push(unmap(base + BigInt(k) * 0x10000n));
  out.push(setIrqs(4, 20 + (r % 1000) * 4), setIrqs(1, 19));
  out.push(regionInfo(r % 9), irqInfo(r % 5));
  out.push(eeh(VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_STATE_NORMAL), r % 50 === 0 ? eeh(VFIO_EEH_PE_RESET_HOT, 0, 1) : eeh(VFIO_EEH_PE_CONFIGURE));
  for (let k = 14; k < out.length; k++) {
    const rec = out[k]!;
    if (rec.type === 'ioctl') rec.arg = 0x7fffe2a00000n + BigInt((r * 20 + k) * 256);
  }
  return out;
}

/**
 * Like writeDecodeRecording, but no ioctl record repeats an earlier one (the
 * whole-call memo never hits): `events` ioctl records after the same set-up.
 */
export function writeDistinctRecording(file: string, events: number): number {
  const header = makeHeader({ arch: ARCH, machine: ARCH, hostname: 'p9-bench', argv: ['qemu-system-ppc64', '-M', 'pseries'] });
  const fd = openSync(file, 'w');
  const parts: Uint8Array[] = [];
  let pending = 0;
  let size = 0;
  const put = (b: Uint8Array): void => {
    parts.push(b);
    pending += b.length;
    if (pending >= 1 << 22) flush();
  };
  const flush = (): void => {
    size += writeSync(fd, Buffer.concat(parts));
    parts.length = 0;
    pending = 0;
  };
  try {
    put(encodeHeader(header));
    put(encodeRecord({ type: 'process', kind: ProcessEventKind.Start, pid: PID, tid: PID, ts: 1000n, value: 0, other: 0, text: 'qemu-system-ppc64' }, 'le'));
    let t = 10_000n;
    let i = 0;
    const emit = (rec: NewRecord): void => {
      t += 1_700n;
      if (rec.type === 'ioctl') {
        rec.tEntry = t;
        rec.tExit = t + 900n;
      }
      put(encodeRecord(rec, 'le'));
      i++;
    };
    for (const rec of setup()) if (i < events) emit(rec);
    for (let r = 0; i < events; r++) for (const rec of distinctRound(r)) if (i < events) emit(rec);
    put(encodeRecord({ type: 'process', kind: ProcessEventKind.Exit, pid: PID, tid: PID, ts: t + 5000n, value: 0, other: 0, text: '' }, 'le'));
    put(encodeRecord({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(events), text: '' }, 'le'));
    flush();
  } finally {
    closeSync(fd);
  }
  return size;
}
