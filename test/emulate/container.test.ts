// The emulated container, group and type1 backend against the kernel's rules
// (docs/abi.md; docs/emulation.md, "The emulated kernel"): each errno rule, the caps
// retry, DMA bookkeeping.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { powerEeh } from '../../src/emulate/profiles/powerEeh.js';
import { x86Pci } from '../../src/emulate/profiles/x86pci.js';
import {
  VFIO_DMA_CC_IOMMU, VFIO_EEH, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from '../../decoders/container.js';
import { VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE } from '../../decoders/group.js';
import {
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_VADDR, VFIO_IOMMU_INFO_CAPS, VFIO_IOMMU_INFO_PGSIZES, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../../decoders/type1.js';
import { errno, Harness, PID } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = new Harness(structuredClone(x86Pci));
});
afterEach(() => h.dispose());

describe('container', () => {
  it('answers GET_API_VERSION and CHECK_EXTENSION like a type1 host', () => {
    const c = h.open(3, '/dev/vfio/vfio');
    expect(h.call(c, 'VFIO_GET_API_VERSION').ret).toBe(0);
    const ext = (e: number): number => h.call(c, 'VFIO_CHECK_EXTENSION', BigInt(e)).ret;
    expect([VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL].map(ext)).toEqual([1, 1, 1]);
    expect([VFIO_SPAPR_TCE_v2_IOMMU, VFIO_EEH, VFIO_DMA_CC_IOMMU, VFIO_UPDATE_VADDR, 6, 1000].map(ext)).toEqual([0, 0, 0, 0, 0, 0]);
    h.setup(VFIO_TYPE1v2_IOMMU);
    // Backend-dependent answers once a backend is chosen.
    expect([VFIO_DMA_CC_IOMMU, VFIO_UPDATE_VADDR].map(ext)).toEqual([1, 1]);
  });

  it('SET_IOMMU: EINVAL without a group or when already set, ENODEV for a backend the host lacks', () => {
    const c = h.open(3, '/dev/vfio/vfio');
    expect(h.call(c, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU)).ret).toBe(errno('EINVAL'));
    h.call(h.open(4, '/dev/vfio/42'), 'VFIO_GROUP_SET_CONTAINER', c);
    expect(h.call(c, 'VFIO_SET_IOMMU', BigInt(VFIO_SPAPR_TCE_v2_IOMMU)).ret).toBe(errno('ENODEV'));
    expect(h.call(c, 'VFIO_SET_IOMMU', 6n).ret).toBe(errno('ENODEV'));
    expect(h.call(c, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU)).ret).toBe(0);
    expect(h.call(c, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU)).ret).toBe(errno('EINVAL'));
  });

  it('an unknown cmd is EINVAL before SET_IOMMU and the backend’s ENOTTY after', () => {
    const { container } = h.setup();
    expect(h.call(container, 'VFIO_IOMMU_GET_INFO').ret).toBe(errno('EINVAL'));
    h.call(container, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU));
    // VFIO_EEH_PE_OP's number means nothing to type1.
    expect(h.call(container, 'VFIO_GROUP_GET_STATUS', undefined, { request: 0x3b79 }).ret).toBe(errno('ENOTTY'));
  });
});

describe('group', () => {
  it('GET_STATUS reports VIABLE, then CONTAINER_SET', () => {
    const g = h.open(4, '/dev/vfio/42');
    const r = h.call(g, 'VFIO_GROUP_GET_STATUS');
    expect(r.ret).toBe(0);
    expect(r.out!.num('flags')).toBe(VFIO_GROUP_FLAGS_VIABLE);
    h.call(g, 'VFIO_GROUP_SET_CONTAINER', h.open(3, '/dev/vfio/vfio'));
    expect(h.call(g, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
    expect(h.call(g, 'VFIO_GROUP_GET_STATUS', {}, { size: 4 }).ret).toBe(errno('EINVAL'));
  });

  it('SET_CONTAINER: EBADF for a closed fd, EBADFD for a non-container, EINVAL when already set', () => {
    const g = h.open(4, '/dev/vfio/42');
    expect(h.call(g, 'VFIO_GROUP_SET_CONTAINER', 9).ret).toBe(errno('EBADF'));
    expect(h.call(g, 'VFIO_GROUP_SET_CONTAINER', h.open(7, '/tmp/not-a-container')).ret).toBe(errno('EBADFD'));
    expect(h.call(g, 'VFIO_GROUP_SET_CONTAINER', h.open(3, '/dev/vfio/vfio')).ret).toBe(0);
    expect(h.call(g, 'VFIO_GROUP_SET_CONTAINER', 3).ret).toBe(errno('EINVAL'));
  });

  it('GET_DEVICE_FD: ENODEV for another name, EINVAL before SET_IOMMU, else an openat of the backing file', () => {
    const { container, group } = h.setup();
    expect(h.call(group, 'VFIO_GROUP_GET_DEVICE_FD', '0000:02:00.0').ret).toBe(errno('ENODEV'));
    expect(h.call(group, 'VFIO_GROUP_GET_DEVICE_FD', '0000:01:00.0').ret).toBe(errno('EINVAL'));
    h.call(container, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU));
    const v = h.call(group, 'VFIO_GROUP_GET_DEVICE_FD', '0000:01:00.0').verdict;
    expect(v).toMatchObject({ action: 'openat', path: h.k.backing.path });
    expect(h.call(group, 'VFIO_GROUP_GET_DEVICE_FD', '0000:01:00.0 vf_token=2ab74924-c335-45f4-9b16-8569e5b08258').ret).toBe(errno('EINVAL'));
    expect(h.call(group, 'VFIO_GROUP_GET_DEVICE_FD', '0000:01:00.0', { fault: 0 }).ret).toBe(errno('EFAULT'));
  });

  it('UNSET_CONTAINER: EINVAL when unset, EBUSY while a device fd is open; the last group takes the backend along', () => {
    const g = h.open(4, '/dev/vfio/42');
    expect(h.call(g, 'VFIO_GROUP_UNSET_CONTAINER').ret).toBe(errno('EINVAL'));
    const { container } = h.setup(VFIO_TYPE1v2_IOMMU);
    h.device();
    expect(h.call(g, 'VFIO_GROUP_UNSET_CONTAINER').ret).toBe(errno('EBUSY'));
    h.paths.delete(5);
    expect(h.call(g, 'VFIO_GROUP_UNSET_CONTAINER').ret).toBe(0);
    // No group, no backend: the container is back to square one.
    expect(h.call(container, 'VFIO_IOMMU_GET_INFO').ret).toBe(errno('EINVAL'));
  });
});

describe('type1 IOMMU_GET_INFO and the caps retry', () => {
  it('argsz 16 gets 16 bytes back and no cap_offset; argsz < 16 is EINVAL', () => {
    const { container } = h.setup(VFIO_TYPE1v2_IOMMU);
    expect(h.call(container, 'VFIO_IOMMU_GET_INFO', {}, { size: 12 }).ret).toBe(errno('EINVAL'));
    const r = h.call(container, 'VFIO_IOMMU_GET_INFO', { cap_offset: 0xdead }, { size: 24 });
    expect(r.ret).toBe(0);
    const small = h.call(container, 'VFIO_IOMMU_GET_INFO', {}, { size: 16 });
    const w = small.verdict.action === 'return' ? small.verdict.writes : [];
    expect(w.map((x) => x.bytes.length)).toEqual([16]);
  });

  it('a too-small buffer: CAPS set, argsz grows, cap_offset 0, success; the retry gets the packed chain', () => {
    const { container } = h.setup(VFIO_TYPE1v2_IOMMU);
    const first = h.call(container, 'VFIO_IOMMU_GET_INFO', { cap_offset: 77 });
    expect(first.ret).toBe(0);
    const need = first.out!.num('argsz');
    expect(need).toBeGreaterThan(24);
    expect(first.out!.num('cap_offset')).toBe(0);
    expect(first.out!.num('flags')).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    expect(first.out!.get('iova_pgsizes') & 0x1000n).toBe(0x1000n);

    const again = h.call(container, 'VFIO_IOMMU_GET_INFO', {}, { size: need });
    expect(again.out!.num('argsz')).toBe(need);
    expect(again.out!.num('cap_offset')).toBe(24);
    // Walk the chain by `next` (no alignment assumed): MIGRATION, DMA_AVAIL, IOVA_RANGE.
    const dv = new DataView(again.mem.buffer);
    const ids: number[] = [];
    const offs: number[] = [];
    for (let at = 24; at !== 0; at = dv.getUint32(at + 4, true)) {
      ids.push(dv.getUint16(at, true));
      offs.push(at);
      expect(dv.getUint16(at + 2, true)).toBe(1);
    }
    expect(ids).toEqual([VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE]);
    // 6.12 (the default) pads each cap to 8 bytes; 6.1 packs them (IOVA_RANGE at 68).
    expect(offs).toEqual([24, 56, 72]);
  });
});

describe('type1 DMA mapping', () => {
  const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  const map = (c: number, iova: bigint, size: bigint, flags = RW, vaddr = 0x7f0000000000n): number =>
    h.call(c, 'VFIO_IOMMU_MAP_DMA', { flags, iova, size, vaddr }).ret;

  it('maps, refuses overlaps with EEXIST, and checks flags, alignment and the IOVA ranges', () => {
    const { container: c } = h.setup(VFIO_TYPE1v2_IOMMU);
    expect(map(c, 0n, 0x100000n)).toBe(0);
    expect(map(c, 0x80000n, 0x100000n)).toBe(errno('EEXIST'));
    expect(map(c, 0x100000n, 0x1000n, 0)).toBe(errno('EINVAL'));
    expect(map(c, 0x100000n, 0x1000n, RW | VFIO_DMA_MAP_FLAG_VADDR)).toBe(errno('EINVAL'));
    expect(map(c, 0x100000n, 0x1000n, 0x8)).toBe(errno('EINVAL'));
    expect(map(c, 0x100800n, 0x1000n)).toBe(errno('EINVAL'));
    expect(map(c, 0x100000n, 0n)).toBe(errno('EINVAL'));
    expect(map(c, 0xfee00000n, 0x1000n)).toBe(errno('EINVAL'));
    expect(h.call(c, 'VFIO_IOMMU_MAP_DMA', { flags: RW, size: 0x1000 }, { size: 24 }).ret).toBe(errno('EINVAL'));
    expect(map(c, 0x100000n, 0x1000n)).toBe(0);
  });

  it('UNMAP writes back the bytes unmapped, never splits a v2 mapping, and knows ALL', () => {
    const { container: c } = h.setup(VFIO_TYPE1v2_IOMMU);
    map(c, 0n, 0x200000n);
    map(c, 0x200000n, 0x1000n);
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { iova: 0x1000, size: 0x1000 }).ret).toBe(errno('EINVAL'));
    const r = h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { iova: 0, size: 0x200000 });
    expect([r.ret, r.out!.get('size')]).toEqual([0, 0x200000n]);
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { iova: 0, size: 0x200000 }).out!.get('size')).toBe(0n);
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { flags: VFIO_DMA_UNMAP_FLAG_ALL, iova: 0x1000 }).ret).toBe(errno('EINVAL'));
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { flags: VFIO_DMA_UNMAP_FLAG_ALL | 1 }).ret).toBe(errno('EINVAL'));
    const all = h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { flags: VFIO_DMA_UNMAP_FLAG_ALL });
    expect([all.ret, all.out!.get('size')]).toEqual([0, 0x1000n]);
    expect(map(c, 0x200000n, 0x1000n)).toBe(0);
  });

  it('VADDR: invalidate with UNMAP, then only an exact MAP(VADDR) updates it', () => {
    const { container: c } = h.setup(VFIO_TYPE1v2_IOMMU);
    map(c, 0n, 0x2000n);
    expect(map(c, 0x10000n, 0x1000n, VFIO_DMA_MAP_FLAG_VADDR)).toBe(errno('ENOENT'));
    expect(map(c, 0n, 0x2000n, VFIO_DMA_MAP_FLAG_VADDR)).toBe(errno('EINVAL'));
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova: 0, size: 0x2000 }).ret).toBe(0);
    expect(map(c, 0n, 0x2000n, VFIO_DMA_MAP_FLAG_VADDR, 0x7f1000000000n)).toBe(0);
  });

  it('DIRTY_PAGES: EACCES on a v1 container, one flag at a time, GET_BITMAP only while tracking', () => {
    const { container: c } = h.setup(VFIO_TYPE1_IOMMU);
    expect(h.call(c, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 1 }).ret).toBe(errno('EACCES'));
    const h2 = new Harness(structuredClone(x86Pci));
    try {
      const { container } = h2.setup(VFIO_TYPE1v2_IOMMU);
      expect(h2.call(container, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 3 }).ret).toBe(errno('EINVAL'));
      expect(h2.call(container, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 4 }, { size: 48 }).ret).toBe(errno('EINVAL'));
      expect(h2.call(container, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 1 }).ret).toBe(0);
      expect(h2.call(container, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 4 }, { size: 48 }).ret).toBe(0);
      expect(h2.call(container, 'VFIO_IOMMU_DIRTY_PAGES', { flags: 4 }, { size: 40 }).ret).toBe(errno('EINVAL'));
    } finally {
      h2.dispose();
    }
  });
});

describe('fork', () => {
  it('a child shares its parent’s containers: same backend, same mappings', () => {
    const { container } = h.setup(VFIO_TYPE1v2_IOMMU);
    h.call(container, 'VFIO_IOMMU_MAP_DMA', { flags: 3, iova: 0, size: 0x1000, vaddr: 0x7f0000000000n });
    h.k.fork(PID, PID + 1);
    const entry = h.call(container, 'VFIO_IOMMU_MAP_DMA', { flags: 3, iova: 0, size: 0x1000, vaddr: 0x7f0000000000n }).mem;
    const v = h.k.handle({ pid: PID + 1, tid: PID + 1, fd: container, fdPath: '/dev/vfio/vfio', request: 0x3b71, arg: 0x10000n, entry, inFault: null });
    expect(v).toMatchObject({ action: 'return', ret: errno('EEXIST') });
  });
});

describe('not ours', () => {
  it('lets the real kernel answer fds outside the emulated machine', () => {
    const f = h.open(9, '/dev/kvm');
    expect(h.call(f, 'VFIO_GET_API_VERSION').verdict).toEqual({ action: 'run' });
  });

  it('the sPAPR profile refuses type1', () => {
    const p = new Harness(structuredClone(powerEeh));
    try {
      const { container } = p.setup();
      expect(p.call(container, 'VFIO_SET_IOMMU', BigInt(VFIO_TYPE1v2_IOMMU)).ret).toBe(errno('ENODEV'));
    } finally {
      p.dispose();
    }
  });
});
