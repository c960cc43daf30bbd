import { describe, expect, it } from 'vitest';
import { DmaSpace } from '../../src/model/dma.js';
import { SessionModel } from '../../src/model/session.js';
import { cleanSpapr, cleanType1, C, D, G, spaprSetup as spaprSetupSim, type1Dma, type1Setup, type1Device } from '../audit/scenarios.js';
import { ENOTTY, Sim } from './sim.js';
import { audit } from '../../src/audit/auditor.js';
import type { DecodedEvent } from '../../src/decode/types.js';

const seqAudit = (evs: DecodedEvent[]) => audit(evs).filter((f) => f.source === 'sequence').map((f) => f.rule);

function run(s: Sim): SessionModel {
  const m = new SessionModel();
  for (const ev of s.events) m.apply(ev);
  return m;
}

describe('topology and state', () => {
  it('type1: container ↔ group ↔ device, backend, page sizes, regions, IRQs, mappings', () => {
    const s = type1Dma(type1Device(type1Setup()));
    const snap = run(s).snapshot();
    const p = snap.processes[0]!;
    expect(p.pid).toBe(100);
    const c = p.containers[0]!;
    expect(c.iommu).toMatchObject({ type: 3, name: 'VFIO_TYPE1v2_IOMMU', ok: true, seq: 4 });
    expect(c.pgsizes).toBe('0xfffffffffffff000');
    expect(c.groups).toEqual([expect.objectContaining({ number: '42', ok: true })]);
    expect(c.dma.mappings).toEqual([{ iova: '0x100000000', size: '0x10000000', vaddr: '0x7f1000000000', flags: 3, seq: expect.any(Number) }]);
    expect(c.dma.mappedBytes).toBe('0x10000000');
    const g = p.groups[0]!;
    expect(g.container).toMatchObject({ id: c.id, fd: C, ok: true });
    const d = p.devices[0]!;
    expect(g.devices).toEqual([d.id]);
    expect(d).toMatchObject({ fd: D, name: '0000:06:0d.0', via: 'group', group: g.id, info: { flags: 3, numRegions: 9, numIrqs: 5 } });
    expect(d.regions.map((r) => r.index)).toEqual([0, 2, 7]);
    expect(d.regions[2]).toMatchObject({ offset: '0x70000000000', size: '0x4000' });
    expect(d.irqs).toEqual([
      { index: 0, count: 1, flags: 7, eventfds: [] },
      { index: 2, count: 8, flags: 9, eventfds: [{ vector: 0, fd: 10 }, { vector: 1, fd: 11 }] },
    ]);
    expect(p.fds.map((f) => [f.fd, f.kind])).toEqual([[C, 'container'], [G, 'group'], [D, 'device']]);
    // Serialisable as is.
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('process exit closes every fd', () => {
    const p = run(cleanType1()).snapshot().processes[0]!;
    expect(p.exited).toBe(true);
    expect(p.fds).toEqual([]);
    expect(p.closedFds.map((f) => f.fd).sort()).toEqual([C, G, D]);
  });

  it('EEH: ops and observed states over time', () => {
    const c = run(cleanSpapr()).snapshot().processes[0]!.containers[0]!;
    expect(c.iommu?.name).toBe('VFIO_SPAPR_TCE_v2_IOMMU');
    expect(c.eeh.ops.map((o) => o.op + (o.state ? `=${o.state}` : ''))).toEqual([
      'VFIO_EEH_PE_ENABLE',
      'VFIO_EEH_PE_GET_STATE=NORMAL',
      'VFIO_EEH_PE_GET_STATE=STOPPED',
      'VFIO_EEH_PE_RESET_HOT',
      'VFIO_EEH_PE_GET_STATE=RESET',
      'VFIO_EEH_PE_RESET_DEACTIVATE',
      'VFIO_EEH_PE_CONFIGURE',
      'VFIO_EEH_PE_GET_STATE=NORMAL',
    ]);
    expect(c.eeh.pendingReset).toBeNull();
    expect(c.eeh.lastState?.state).toBe('NORMAL');
  });

  it('failed calls: backend choice kept with its failure, outputs ignored, maps not live', () => {
    const s = new Sim().fd(C, '/dev/vfio/vfio', 'container').fd(G, '/dev/vfio/42', 'group');
    s.call(G, 'VFIO_GROUP_SET_CONTAINER', { in: C, ret: ENOTTY });
    s.call(C, 'VFIO_SET_IOMMU', { arg: 1, ret: ENOTTY });
    s.call(C, 'VFIO_IOMMU_GET_INFO', { in: { argsz: 24 }, out: { argsz: 24, flags: 1, iova_pgsizes: 0x1000 }, ret: ENOTTY });
    s.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0, iova: 0, size: 0x1000 }, ret: ENOTTY });
    s.call(G, 'VFIO_GROUP_GET_DEVICE_FD', { in: 'x', ret: ENOTTY });
    const p = run(s).snapshot().processes[0]!;
    const c = p.containers[0]!;
    expect(c.iommu).toMatchObject({ type: 1, ok: false, errno: 'ENOTTY' });
    expect(c.groups[0]).toMatchObject({ ok: false, errno: 'ENOTTY' });
    expect(c.pgsizes).toBeNull();
    expect(c.dma).toEqual({ mappings: [], mappedBytes: '0x0', failedMaps: 1 });
    expect(p.devices).toEqual([]);
  });

  it('fd reuse with another path starts a new object', () => {
    const s = new Sim().fd(C, '/dev/vfio/vfio', 'container');
    s.call(C, 'VFIO_GET_API_VERSION');
    s.fd(C, '/dev/vfio/7', 'group');
    s.call(C, 'VFIO_GROUP_GET_STATUS', { in: { argsz: 8, flags: 0 }, out: { argsz: 8, flags: 1 } });
    const p = run(s).snapshot().processes[0]!;
    expect(p.fds).toEqual([expect.objectContaining({ fd: C, kind: 'group', path: '/dev/vfio/7' })]);
    expect(p.closedFds).toEqual([expect.objectContaining({ fd: C, kind: 'container', closedSeq: 1 })]);
  });

  it('a SET_CONTAINER target first seen as an argument is re-typed by its own first ioctl (iommufd)', () => {
    const s = new Sim().fd(G, '/dev/vfio/42', 'group');
    s.call(G, 'VFIO_GROUP_SET_CONTAINER', { in: 9 });
    s.fd(9, '/dev/iommu', 'iommufd');
    s.call(9, 'IOMMU_IOAS_ALLOC', { in: { size: 12, flags: 0, out_ioas_id: 0 }, out: { size: 12, flags: 0, out_ioas_id: 3 } });
    const p = run(s).snapshot().processes[0]!;
    expect(p.containers).toEqual([]);
    expect(p.iommufds[0]).toMatchObject({ fd: 9, ioas: [expect.objectContaining({ id: 3 })] });
    expect(p.iommufds[0]!.groups).toEqual([p.groups[0]!.id]);
    expect(p.groups[0]!.container?.id).toBe(p.iommufds[0]!.id);
  });

  it('a forked child shares the parent\'s container, groups and extension answers', () => {
    const parent = type1Setup(new Sim(1));
    const child = new Sim(2);
    child.seq = parent.seq;
    child.fd(C, '/dev/vfio/vfio', 'container');
    child.startFrom(1);
    child.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0, iova: 0x1000, size: 0x1000 } });
    const m = new SessionModel();
    for (const ev of [...parent.events, ...child.events]) m.apply(ev);
    const snap = m.snapshot();
    const c = snap.processes[0]!.containers[0]!;
    expect(c.dma.mappings.map((x) => x.iova)).toEqual(['0x1000']);
    expect(snap.processes[1]!.fds.map((f) => f.objectId)).toContain(c.id);
    expect(snap.processes[1]!.extensions.map((e) => e.id)).toEqual([3]);
    expect(seqAudit([...parent.events, ...child.events])).toEqual([]);
  });

  it('cdev device → iommufd → IOAS: bind, attach, IOAS mappings, migration fd', () => {
    const s = new Sim().fd(6, '/dev/vfio/devices/vfio0', 'device').fd(7, '/dev/iommu', 'iommufd');
    s.call(6, 'VFIO_DEVICE_BIND_IOMMUFD', { in: { argsz: 24, flags: 0, iommufd: 7, out_devid: 0 }, out: { argsz: 24, flags: 0, iommufd: 7, out_devid: 1 } });
    s.call(7, 'IOMMU_IOAS_ALLOC', { in: { size: 12, flags: 0, out_ioas_id: 0 }, out: { size: 12, flags: 0, out_ioas_id: 2 } });
    s.call(6, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', { in: { argsz: 16, flags: 0, pt_id: 2 }, out: { argsz: 16, flags: 0, pt_id: 3 } });
    s.call(7, 'IOMMU_IOAS_IOVA_RANGES', { in: { size: 32, ioas_id: 2, num_iovas: 0 }, out: { size: 32, ioas_id: 2, num_iovas: 1, out_iova_alignment: 0x1000 } });
    const map = { size: 40, flags: 6, ioas_id: 2, __reserved: 0, user_va: 0x7f0000000000n, length: 0x20000, iova: 0 };
    s.call(7, 'IOMMU_IOAS_MAP', { in: map, out: { ...map, iova: 0x40000 } }); // the kernel picked the IOVA
    s.call(7, 'IOMMU_IOAS_MAP', { in: { ...map, flags: 7, iova: 0x100000 }, out: { ...map, flags: 7, iova: 0x100000 } });
    s.call(7, 'IOMMU_IOAS_UNMAP', { in: { size: 24, ioas_id: 2, iova: 0x48000, length: 0x8000 }, out: { size: 24, ioas_id: 2, iova: 0x48000, length: 0x8000 } });
    s.fd(8, 'anon_inode:[vfio-migration]', 'migration');
    s.call(6, 'VFIO_DEVICE_FEATURE', { in: { argsz: 16, flags: 0x20002 }, newFd: { fd: 8, kind: 'migration' } });
    const p = run(s).snapshot().processes[0]!;
    const d = p.devices[0]!;
    expect(d).toMatchObject({ via: 'cdev', name: '/dev/vfio/devices/vfio0', bind: { ok: true, iommufd: 7, iommufdId: p.iommufds[0]!.id, devid: 1 }, attach: { ok: true, ptId: 3, ioas: false } });
    const ioas = p.iommufds[0]!.ioas[0]!;
    expect(ioas.iovaAlignment).toBe('0x1000');
    expect(ioas.dma.mappings.map((m) => [m.iova, m.size])).toEqual([['0x40000', '0x8000'], ['0x50000', '0x10000'], ['0x100000', '0x20000']]);
    expect(p.fds.find((f) => f.fd === 8)).toMatchObject({ kind: 'migration', objectId: d.migrationFds[0] });
    // IOMMU_IOAS_UNMAP of everything (iova 0, length U64_MAX) empties it.
    s.call(7, 'IOMMU_IOAS_UNMAP', { in: { size: 24, ioas_id: 2, iova: 0, length: (1n << 64n) - 1n } });
    expect(run(s).snapshot().processes[0]!.iommufds[0]!.ioas[0]!.dma).toEqual({ mappings: [], mappedBytes: '0x0', failedMaps: 0 });
  });

  it('EEH reset pending until RESET_DEACTIVATE', () => {
    const s = spaprSetupSim();
    s.call(C, 'VFIO_EEH_PE_OP', { in: { argsz: 40, flags: 0, op: 6 } });
    const m = run(s);
    expect(m.snapshot().processes[0]!.containers[0]!.eeh.pendingReset).toBe(s.seq - 1);
  });

  it('processes are kept apart', () => {
    const a = type1Setup(new Sim(1));
    const b = type1Setup(new Sim(2));
    const m = new SessionModel();
    for (const ev of [...a.events, ...b.events]) m.apply(ev);
    expect(m.snapshot().processes.map((p) => [p.pid, p.containers.length])).toEqual([[1, 1], [2, 1]]);
  });
});

describe('DmaSpace', () => {
  it('splits mappings on partial unmap and answers overlap queries', () => {
    const d = new DmaSpace();
    d.map({ iova: 0x1000n, size: 0x4000n, vaddr: 0x10000n, flags: 3, seq: 1 });
    d.map({ iova: 0x10000n, size: 0x1000n, vaddr: null, flags: 3, seq: 2 });
    expect(d.unmap(0x2000n, 0x1000n)).toBe(0x1000n);
    expect(d.live.map((m) => [m.iova, m.size, m.vaddr])).toEqual([
      [0x1000n, 0x1000n, 0x10000n],
      [0x3000n, 0x2000n, 0x12000n],
      [0x10000n, 0x1000n, null],
    ]);
    expect(d.overlapping(0x2000n, 0x1000n)).toEqual([]);
    expect(d.overlapping(0x4fffn, 0xb002n).map((m) => m.seq)).toEqual([1, 2]);
    expect(d.mappedBytes).toBe(0x4000n);
    expect(d.unmapAll()).toBe(0x4000n);
    expect(d.live).toEqual([]);
  });
});
