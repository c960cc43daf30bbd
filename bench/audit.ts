// Session model + audit throughput: the TUI feeds every event to the auditor,
// so it must keep up with a fast tracee. Run after a build:
//   node dist/bench/audit.js
// Target on a 2-core machine: ≥ 20,000 events/s (the TUI's feed rate).

import { Auditor } from '../src/audit/auditor.js';
import type { DecodedIoctl, FdKind, FieldNode } from '../src/decode/types.js';
import { RuleKind } from '../src/trace/events.js';

function struct(fields: Record<string, bigint | number>): FieldNode {
  return {
    name: '', path: '', ctype: 'struct', offset: 0, size: 0, dir: 'inout', display: '',
    children: Object.entries(fields).map(([k, v]) => ({ name: k, path: k, ctype: '__u64', offset: 0, size: 8, dir: 'in' as const, value: BigInt(v), display: String(v) })),
  };
}

let seq = 0;
function ev(fd: number, path: string, kind: FdKind, ioctl: string, inF: Record<string, bigint | number> | null, o: { out?: Record<string, bigint | number>; ret?: number; arg?: number } = {}): DecodedIoctl {
  const ret = o.ret ?? 0;
  return {
    kind: 'ioctl', seq: seq++, ts: 0, dur: 0, pid: 1, tid: 1, fd, fdPath: path, fdKind: kind, request: 0, ioctl, family: null,
    candidates: [], resolution: 'unique', argDisplay: '', in: inF ? struct(inF) : null, out: o.out ? struct(o.out) : null,
    ret: { value: ret, errno: ret < 0 ? 'EINVAL' : null, meaning: '' }, incomplete: false, truncated: false, findings: [],
    record: { type: 'ioctl', offset: 0, flags: 0, pid: 1, tid: 1, tEntry: 0n, tExit: 0n, fd: BigInt(fd), request: 0n, arg: BigInt(o.arg ?? 0),
      ret: BigInt(ret), wantLen: 0, inFault: null, outFault: null, ruleKind: RuleKind.None, fdPath: path, entry: new Uint8Array(), exit: new Uint8Array() },
  };
}

const C = (name: string, inF: Record<string, bigint | number> | null, o = {}) => ev(3, '/dev/vfio/vfio', 'container', name, inF, o);
const D = (name: string, inF: Record<string, bigint | number> | null, o = {}) => ev(5, 'anon_inode:[vfio-device]', 'device', name, inF, o);

const setup: DecodedIoctl[] = [
  ev(4, '/dev/vfio/42', 'group', 'VFIO_GROUP_SET_CONTAINER', null),
  C('VFIO_SET_IOMMU', null, { arg: 3 }),
  C('VFIO_IOMMU_GET_INFO', { argsz: 0x68 }, { out: { argsz: 0x68, flags: 3, iova_pgsizes: 0xfffff000n, cap_offset: 24 } }),
];
setup[0]!.in = { name: 'fd', path: 'fd', ctype: '__s32', offset: 0, size: 4, dir: 'in', value: 3n, display: '3' };

// Steady state: a sliding window of 256 live mappings, IRQ and region traffic.
const N = 400_000;
const body: DecodedIoctl[] = [];
for (let i = 0; body.length < N; i++) {
  const iova = BigInt(i) * 0x10000n;
  body.push(C('VFIO_IOMMU_MAP_DMA', { argsz: 32, flags: 3, vaddr: 0x7f0000000000n + iova, iova, size: 0x10000 }));
  if (i >= 256) body.push(C('VFIO_IOMMU_UNMAP_DMA', { argsz: 24, flags: 0, iova: iova - 256n * 0x10000n, size: 0x10000 }, { out: { size: 0x10000 } }));
  if (i % 4 === 0) body.push(D('VFIO_DEVICE_GET_REGION_INFO', { argsz: 32, index: i % 9 }, { out: { argsz: 32, flags: 7, size: 0x4000, offset: 0, cap_offset: 0 } }));
  if (i % 8 === 0) body.push(D('VFIO_DEVICE_SET_IRQS', { argsz: 24, flags: 0x24, index: 2, start: i % 8, count: 1 }));
  if (i % 16 === 0) body.push(D('VFIO_DEVICE_GET_IRQ_INFO', { argsz: 16, index: 2 }, { out: { argsz: 16, flags: 9, index: 2, count: 8 } }));
}

const a = new Auditor();
const t0 = process.hrtime.bigint();
for (const e of setup) a.feed(e);
for (const e of body) a.feed(e);
a.finish();
const t1 = process.hrtime.bigint();
const secs = Number(t1 - t0) / 1e9;
const snapT0 = process.hrtime.bigint();
const snap = a.snapshot();
const snapMs = Number(process.hrtime.bigint() - snapT0) / 1e6;
console.log(`audit: ${body.length} events in ${secs.toFixed(3)} s = ${Math.round(body.length / secs).toLocaleString('en')} events/s (target ≥ 20,000)`);
console.log(`  findings: ${a.findings.length}; live mappings: ${snap.processes[0]?.containers[0]?.dma.mappings.length ?? 0}; snapshot() ${snapMs.toFixed(2)} ms`);
