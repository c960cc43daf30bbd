// Random event sequences (any ioctl on any fd, any outcome, odd payloads)
// never make the model or the audit throw, and the snapshot stays JSON.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import type { FdKind } from '../../src/decode/types.js';
import { Sim, type Payload } from './sim.js';

const NAMES = [
  'VFIO_GET_API_VERSION', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_MAP_DMA',
  'VFIO_IOMMU_UNMAP_DMA', 'VFIO_IOMMU_ENABLE', 'VFIO_IOMMU_DISABLE', 'VFIO_EEH_PE_OP', 'VFIO_GROUP_GET_STATUS',
  'VFIO_GROUP_SET_CONTAINER', 'VFIO_GROUP_UNSET_CONTAINER', 'VFIO_GROUP_GET_DEVICE_FD', 'VFIO_DEVICE_GET_INFO',
  'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS', 'VFIO_DEVICE_FEATURE',
  'VFIO_DEVICE_BIND_IOMMUFD', 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', 'VFIO_DEVICE_DETACH_IOMMUFD_PT', 'IOMMU_IOAS_ALLOC',
  'IOMMU_IOAS_MAP', 'IOMMU_IOAS_UNMAP', 'IOMMU_DESTROY', 'IOMMU_IOAS_IOVA_RANGES', null,
] as const;

const FILES: Array<[string, FdKind]> = [
  ['/dev/vfio/vfio', 'container'], ['/dev/vfio/42', 'group'], ['anon_inode:[vfio-device]', 'device'],
  ['/dev/vfio/devices/vfio0', 'device'], ['/dev/iommu', 'iommufd'], ['anon_inode:[vfio-migration]', 'migration'],
  ['/dev/null', 'other'], ['', 'other'],
];

const FIELDS = ['argsz', 'flags', 'index', 'count', 'start', 'iova', 'size', 'vaddr', 'op', 'iova_pgsizes', 'cap_offset',
  'ioas_id', 'length', 'user_va', 'out_ioas_id', 'iommufd', 'out_devid', 'pt_id', 'id', 'out_iova_alignment'];

const value = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.integer({ min: -2, max: 12 }),
  fc.constantFrom(0x1000, 0x10000, 0xfffff000n, -1),
);
const payload: fc.Arbitrary<Payload> = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }).map((d) => {
  const p: Payload = { ...d };
  return p;
});

const step = fc.record({
  fd: fc.integer({ min: 0, max: 6 }),
  file: fc.integer({ min: 0, max: FILES.length - 1 }),
  name: fc.constantFrom(...NAMES),
  in: fc.option(fc.oneof(payload, fc.integer({ min: -1, max: 6 }), fc.string({ maxLength: 4 })), { nil: undefined }),
  withData: fc.boolean(),
  data: fc.array(fc.integer({ min: -2, max: 20 }), { maxLength: 4 }),
  out: fc.option(payload, { nil: undefined }),
  arg: fc.integer({ min: -1, max: 10 }),
  ret: fc.oneof(fc.constant(0), fc.integer({ min: -40, max: 8 })),
  newFd: fc.option(fc.record({ fd: fc.integer({ min: 0, max: 6 }), kind: fc.constantFrom<FdKind>('device', 'migration', 'dmabuf') }), { nil: undefined }),
  exit: fc.boolean(),
  pid: fc.constantFrom(1, 2),
});

describe('model and audit under random sequences', () => {
  it('never throw; snapshot is JSON', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const sims = new Map<number, Sim>();
        const events = [];
        let seq = 0;
        for (const st of steps) {
          let s = sims.get(st.pid);
          if (!s) sims.set(st.pid, (s = new Sim(st.pid)));
          s.seq = seq;
          const [path, kind] = FILES[st.file]!;
          s.fd(st.fd, path, kind);
          if (st.exit && st.ret === 7) s.exit();
          else if (st.exit && st.ret === 6) s.startFrom(3 - st.pid);
          else {
            const input = typeof st.in === 'object' && st.withData ? { ...st.in, data: st.data } : st.in;
            s.call(st.fd, st.name, {
              ...(input !== undefined ? { in: input } : {}),
              ...(st.out !== undefined ? { out: st.out } : {}),
              arg: st.arg, ret: st.ret,
              ...(st.newFd ? { newFd: st.newFd } : {}),
            });
          }
          seq = s.seq;
          events.push(s.events[s.events.length - 1]!);
        }
        const a = new Auditor();
        for (const ev of events) a.feed(ev);
        const findings = a.finish();
        for (const f of findings) expect(f.events.length).toBeGreaterThan(0);
        const snap = a.model.snapshot();
        expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
      }),
      { numRuns: 300 },
    );
  });
});
