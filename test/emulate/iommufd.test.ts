// The emulated iommufd (/dev/iommu) and device cdev against the kernel's
// rules (drivers/iommu/iommufd, drivers/vfio/device_cdev.c): the command
// prologue, object ids, IOAS map/unmap/copy and their errnos in the
// kernel's order, the ranges an attached domain reserves, bind and attach.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { x86Pci } from '../../src/emulate/profiles/x86pci.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE } from '../../decoders/iommufd.js';
import { errno, Harness } from './harness.js';

const RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
const FIXED = IOMMU_IOAS_MAP_FIXED_IOVA | RW;
const U64_MAX = (1n << 64n) - 1n;
const IOMMUFD = 3;
const CDEV = 4;

let h: Harness;
beforeEach(() => {
  h = new Harness(structuredClone(x86Pci));
  h.open(IOMMUFD, '/dev/iommu');
  h.open(CDEV, '/dev/vfio/devices/vfio0');
});
afterEach(() => h.dispose());

const ioasAlloc = (): number => h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC').out!.num('out_ioas_id');
const bind = (fd = CDEV): { ret: number; devid: number } => {
  const r = h.call(fd, 'VFIO_DEVICE_BIND_IOMMUFD', { iommufd: IOMMUFD });
  return { ret: r.ret, devid: r.out!.num('out_devid') };
};
const attach = (pt: number): { ret: number; pt: number } => {
  const r = h.call(CDEV, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', { pt_id: pt });
  return { ret: r.ret, pt: r.out!.num('pt_id') };
};
const map = (ioas: number, v: Record<string, number | bigint>): { ret: number; iova: bigint } => {
  const r = h.call(IOMMUFD, 'IOMMU_IOAS_MAP', { ioas_id: ioas, user_va: 0x7f0000000000n, ...v });
  return { ret: r.ret, iova: r.out!.get('iova') };
};
const unmap = (ioas: number, iova: bigint, length: bigint): { ret: number; length: bigint } => {
  const r = h.call(IOMMUFD, 'IOMMU_IOAS_UNMAP', { ioas_id: ioas, iova, length });
  return { ret: r.ret, length: r.out!.get('length') };
};

describe('iommufd command prologue', () => {
  it('size below the minimum is EINVAL, non-zero bytes past the struct E2BIG, zero ones accepted', () => {
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC', {}, { size: 8 }).ret).toBe(errno('EINVAL'));
    const big = new Uint8Array(16);
    new DataView(big.buffer).setUint32(0, 16, true);
    big[12] = 1;
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC', big).ret).toBe(errno('E2BIG'));
    big[12] = 0;
    const ok = h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC', big);
    expect(ok.ret).toBe(0);
    // The reply is min(size, sizeof): 12 bytes, the caller's zero tail untouched.
    expect(ok.verdict.action === 'return' && ok.verdict.writes[0]!.bytes.length).toBe(12);
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC', {}, { fault: 2 }).ret).toBe(errno('EFAULT'));
  });

  it('commands newer than the kernel and VFIO numbers are ENOTTY; unknown flags EOPNOTSUPP', () => {
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_MAP_FILE', { ioas_id: 1 }).ret).toBe(errno('ENOTTY'));
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOC', { flags: 1 }).ret).toBe(errno('EOPNOTSUPP'));
    // A group's VFIO number on /dev/iommu means nothing to iommufd.
    expect(h.call(IOMMUFD, 'VFIO_GET_API_VERSION', undefined, { request: 0x3b67 }).ret).toBe(errno('ENOTTY'));
  });

  it('ids start at 1 and the lowest free one is reused', () => {
    expect([ioasAlloc(), ioasAlloc(), ioasAlloc()]).toEqual([1, 2, 3]);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 2 }).ret).toBe(0);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 2 }).ret).toBe(errno('ENOENT'));
    expect(ioasAlloc()).toBe(2);
  });

  it('each open /dev/iommu is its own context', () => {
    h.open(7, '/dev/iommu');
    expect(ioasAlloc()).toBe(1);
    expect(h.call(7, 'IOMMU_IOAS_ALLOC').out!.num('out_ioas_id')).toBe(1);
  });

  it('a 6.1 host has no iommufd: the calls are left to the real kernel', () => {
    const old = new Harness({ ...structuredClone(x86Pci), kernel: '6.1' });
    try {
      old.open(3, '/dev/iommu');
      expect(old.call(3, 'IOMMU_IOAS_ALLOC').verdict.action).toBe('run');
    } finally {
      old.dispose();
    }
  });
});

describe('IOAS map and unmap', () => {
  it('checks in the kernel’s order: flags, overflow, protection, id', () => {
    const ioas = ioasAlloc();
    expect(map(ioas, { flags: 8 | RW, length: 0x1000 }).ret).toBe(errno('EOPNOTSUPP'));
    expect(map(ioas, { flags: RW, length: U64_MAX }).ret).toBe(errno('EOVERFLOW'));
    expect(map(ioas, { flags: IOMMU_IOAS_MAP_FIXED_IOVA, length: 0x1000 }).ret).toBe(errno('EINVAL'));
    expect(map(99, { flags: RW, length: 0x1000 }).ret).toBe(errno('ENOENT'));
    expect(map(ioas, { flags: RW, length: 0 }).ret).toBe(errno('EINVAL'));
  });

  it('picks an IOVA aligned like the user address, never page 0; refuses overlaps', () => {
    const ioas = ioasAlloc();
    expect(map(ioas, { flags: FIXED, length: 0x200000, iova: 0x100000 })).toEqual({ ret: 0, iova: 0x100000n });
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0x2ff000 }).ret).toBe(errno('EEXIST'));
    // 64 KiB from a 64 KiB-aligned address: the first aligned hole past page 0.
    expect(map(ioas, { flags: RW, length: 0x10000, user_va: 0x7f0000010000n })).toEqual({ ret: 0, iova: 0x10000n });
    // Too big for the hole below 1 MiB: after the fixed area.
    expect(map(ioas, { flags: RW, length: 0x100000, user_va: 0x7f0000100000n })).toEqual({ ret: 0, iova: 0x300000n });
  });

  it('unmap must cover whole areas: a cut area stops the walk with ENOENT, the areas before it gone', () => {
    const ioas = ioasAlloc();
    map(ioas, { flags: FIXED, length: 0x1000, iova: 0x10000 });
    map(ioas, { flags: FIXED, length: 0x2000, iova: 0x20000 });
    expect(unmap(ioas, 0x10000n, 0x11000n).ret).toBe(errno('ENOENT'));
    // The first area went before the walk hit the cut one.
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0x10000 }).ret).toBe(0);
    expect(unmap(ioas, 0x40000n, 0x1000n).ret).toBe(errno('ENOENT'));
    expect(unmap(ioas, 0n, 0n).ret).toBe(errno('EINVAL'));
    expect(unmap(ioas, 0n, U64_MAX)).toEqual({ ret: 0, length: 0x3000n });
    // Unmap-all of an empty IOAS succeeds.
    expect(unmap(ioas, 0n, U64_MAX)).toEqual({ ret: 0, length: 0n });
  });

  it('COPY maps the source’s pages again, at a fixed or picked IOVA', () => {
    const src = ioasAlloc();
    const dst = ioasAlloc();
    map(src, { flags: FIXED, length: 0x2000, iova: 0x10000 });
    const copy = (v: Record<string, number | bigint>): ReturnType<Harness['call']> =>
      h.call(IOMMUFD, 'IOMMU_IOAS_COPY', { src_ioas_id: src, dst_ioas_id: dst, src_iova: 0x10000, length: 0x2000, ...v });
    expect(copy({ flags: FIXED, dst_iova: 0x80000 }).ret).toBe(0);
    expect(copy({ flags: FIXED, dst_iova: 0x80000 }).ret).toBe(errno('EEXIST'));
    expect(copy({ flags: FIXED, src_iova: 0x11000, dst_iova: 0x90000 }).ret).toBe(errno('ENOENT'));
    expect(copy({ flags: FIXED, dst_ioas_id: 77 }).ret).toBe(errno('ENOENT'));
    expect(unmap(dst, 0n, U64_MAX).length).toBe(0x2000n);
  });

  it('IOVA_RANGES: everything until a domain attaches, then the IOMMU’s aperture minus the MSI window; EMSGSIZE when short', () => {
    const ioas = ioasAlloc();
    const ranges = (room: number): { ret: number; n: number; align: bigint; mem: Uint8Array } => {
      const r = h.call(IOMMUFD, 'IOMMU_IOAS_IOVA_RANGES', { ioas_id: ioas, num_iovas: room, allowed_iovas: 0x10100 });
      return { ret: r.ret, n: r.out!.num('num_iovas'), align: r.out!.get('out_iova_alignment'), mem: r.mem };
    };
    expect(ranges(4)).toMatchObject({ ret: 0, n: 1, align: 1n });
    expect(bind().ret).toBe(0);
    expect(attach(ioas)).toEqual({ ret: 0, pt: 3 });
    const r = ranges(4);
    expect(r).toMatchObject({ ret: 0, n: 2, align: 0x1000n });
    const dv = new DataView(r.mem.buffer, 0x100);
    expect([0, 8, 16, 24].map((o) => dv.getBigUint64(o, true))).toEqual([0n, 0xfedfffffn, 0xfef00000n, (1n << 39n) - 1n]);
    expect(ranges(1)).toMatchObject({ ret: errno('EMSGSIZE'), n: 2 });
    // Attached: unaligned or reserved IOVAs are refused.
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0x10800 }).ret).toBe(errno('EINVAL'));
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0xfee00000 }).ret).toBe(errno('EINVAL'));
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 1n << 39n }).ret).toBe(errno('EINVAL'));
  });

  it('ALLOW_IOVAS restricts picked IOVAs; overlapping or empty ranges are EINVAL', () => {
    const ioas = ioasAlloc();
    const allow = (ranges: [bigint, bigint][]): number => {
      const b = new Uint8Array(16 * ranges.length);
      ranges.forEach(([s, l], k) => {
        new DataView(b.buffer).setBigUint64(16 * k, s, true);
        new DataView(b.buffer).setBigUint64(16 * k + 8, l, true);
      });
      h.memory.set(0x20000n, b);
      return h.call(IOMMUFD, 'IOMMU_IOAS_ALLOW_IOVAS', { ioas_id: ioas, num_iovas: ranges.length, allowed_iovas: 0x20000 }).ret;
    };
    expect(allow([[0x1000000n, 0x1ffffffn]])).toBe(0);
    expect(map(ioas, { flags: RW, length: 0x1000, user_va: 0x7f0000001000n })).toEqual({ ret: 0, iova: 0x1000000n });
    expect(allow([[0x5000n, 0x5000n]])).toBe(errno('EINVAL'));
    expect(allow([[0x0n, 0x2000n], [0x1000n, 0x3000n]])).toBe(errno('EINVAL'));
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOW_IOVAS', { ioas_id: ioas, num_iovas: 1, allowed_iovas: 0x30000 }).ret).toBe(errno('EFAULT'));
    // Read one range at a time: a bad first range is EINVAL even when the rest is unreadable, and a huge count reads nothing more.
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 0x9000n, true);
    new DataView(bad.buffer).setBigUint64(8, 0x8000n, true);
    h.memory.set(0x40000n, bad);
    expect(h.call(IOMMUFD, 'IOMMU_IOAS_ALLOW_IOVAS', { ioas_id: ioas, num_iovas: 0x10000000, allowed_iovas: 0x40000 }).ret).toBe(errno('EINVAL'));
  });

  it('OPTION: huge pages per IOAS, the rlimit mode only while no object exists', () => {
    const opt = (v: Record<string, number | bigint>): { ret: number; val: bigint } => {
      const r = h.call(IOMMUFD, 'IOMMU_OPTION', v);
      return { ret: r.ret, val: r.out!.get('val64') };
    };
    expect(opt({ option_id: 0, op: 0, val64: 1 }).ret).toBe(0);
    expect(opt({ option_id: 0, op: 1 })).toEqual({ ret: 0, val: 1n });
    const ioas = ioasAlloc();
    expect(opt({ option_id: 0, op: 0, val64: 0 }).ret).toBe(errno('EBUSY'));
    expect(opt({ option_id: 1, op: 1, object_id: ioas })).toEqual({ ret: 0, val: 1n });
    expect(opt({ option_id: 1, op: 0, object_id: ioas, val64: 0 }).ret).toBe(0);
    expect(opt({ option_id: 1, op: 1, object_id: ioas })).toEqual({ ret: 0, val: 0n });
    expect(opt({ option_id: 1, op: 0, object_id: ioas, val64: 2 }).ret).toBe(errno('EINVAL'));
    expect(opt({ option_id: 9, op: 1 }).ret).toBe(errno('EOPNOTSUPP'));
  });
});

describe('what domains, devices and huge pages reserve', () => {
  const ranges = (ioas: number): { n: number; align: bigint } => {
    const r = h.call(IOMMUFD, 'IOMMU_IOAS_IOVA_RANGES', { ioas_id: ioas, num_iovas: 0 });
    return { n: r.out!.num('num_iovas'), align: r.out!.get('out_iova_alignment') };
  };

  it('a HWPT alone reserves past the aperture; the MSI window comes with an attached device', () => {
    const ioas = ioasAlloc();
    const { devid } = bind();
    const hw = h.call(IOMMUFD, 'IOMMU_HWPT_ALLOC', { dev_id: devid, pt_id: ioas });
    expect(ranges(ioas)).toEqual({ n: 1, align: 0x1000n });
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0xfee00000 }).ret).toBe(0);
    expect(attach(hw.out!.num('out_hwpt_id')).ret).toBe(errno('EADDRINUSE'));
    unmap(ioas, 0n, U64_MAX);
    expect(attach(hw.out!.num('out_hwpt_id')).ret).toBe(0);
    expect(ranges(ioas)).toEqual({ n: 2, align: 0x1000n });
  });

  it('HWPT_ALLOC checks in the kernel’s order', () => {
    const ioas = ioasAlloc();
    const { devid } = bind();
    const alloc = (v: Record<string, number>): number => h.call(IOMMUFD, 'IOMMU_HWPT_ALLOC', { dev_id: devid, pt_id: ioas, ...v }).ret;
    expect(alloc({ data_type: 1 })).toBe(errno('EINVAL'));
    expect(alloc({ data_len: 8 })).toBe(errno('EINVAL'));
    expect(alloc({ dev_id: 77 })).toBe(errno('ENOENT'));
    expect(alloc({ pt_id: 77 })).toBe(errno('EINVAL'));
    expect(alloc({ flags: 1 })).toBe(errno('EOPNOTSUPP'));
  });

  it('huge pages off: IOVAs page-aligned even with no domain; refused with areas in a domain', () => {
    const ioas = ioasAlloc();
    const opt = (val: number): number => h.call(IOMMUFD, 'IOMMU_OPTION', { option_id: 1, op: 0, object_id: ioas, val64: val }).ret;
    expect(opt(0)).toBe(0);
    expect(ranges(ioas)).toEqual({ n: 1, align: 0x1000n });
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0x10800 }).ret).toBe(errno('EINVAL'));
    expect(opt(1)).toBe(0);
    bind();
    attach(ioas);
    map(ioas, { flags: FIXED, length: 0x1000, iova: 0x10000 });
    expect(opt(0)).toBe(errno('EINVAL'));
  });
});

describe('device cdev', () => {
  it('is inert until bound; binds once, to an iommufd only', () => {
    expect(h.call(CDEV, 'VFIO_DEVICE_GET_INFO').ret).toBe(errno('EINVAL'));
    h.open(9, '/dev/null');
    expect(h.call(CDEV, 'VFIO_DEVICE_BIND_IOMMUFD', { iommufd: 9 }).ret).toBe(errno('EBADFD'));
    expect(h.call(CDEV, 'VFIO_DEVICE_BIND_IOMMUFD', { iommufd: 10 }).ret).toBe(errno('EBADF'));
    expect(h.call(CDEV, 'VFIO_DEVICE_BIND_IOMMUFD', { iommufd: -1 }).ret).toBe(errno('EINVAL'));
    expect(bind()).toEqual({ ret: 0, devid: 1 });
    expect(bind().ret).toBe(errno('EINVAL'));
    // A second open of the cdev cannot bind the same device.
    h.open(5, '/dev/vfio/devices/vfio0');
    expect(bind(5).ret).toBe(errno('EINVAL'));
    expect(h.call(CDEV, 'VFIO_DEVICE_GET_INFO').ret).toBe(0);
  });

  it('an unknown request is EINVAL until bound, ENOTTY after', () => {
    expect(h.call(CDEV, 'VFIO_DEVICE_GET_INFO', undefined, { request: 0x3b7f }).ret).toBe(errno('EINVAL'));
    bind();
    expect(h.call(CDEV, 'VFIO_DEVICE_GET_INFO', undefined, { request: 0x3b7f }).ret).toBe(errno('ENOTTY'));
  });

  it('a closed cdev is seen by iommufd calls: its IOAS can be destroyed at once', () => {
    const ioas = ioasAlloc();
    bind();
    attach(ioas);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: ioas }).ret).toBe(errno('EBUSY'));
    h.paths.delete(CDEV);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: ioas }).ret).toBe(0);
  });

  it('PCI_HOT_RESET through the cdev takes no group fds (count 0), the group path at least one', () => {
    bind();
    const reset = (count: number): number => h.call(CDEV, 'VFIO_DEVICE_PCI_HOT_RESET', { count }).ret;
    expect(reset(1)).toBe(errno('EINVAL'));
    // x86-pci: a bus reset that fails, as on the real QEMU machine.
    expect(reset(0)).toBe(errno('ENOTTY'));
  });

  it('BIND is EBUSY while the group is open on the legacy path', () => {
    h.open(6, '/dev/vfio/42');
    expect(bind().ret).toBe(errno('EBUSY'));
  });

  it('attach: an IOAS gets an automatic HWPT shared by its devices; a HWPT is used as it is', () => {
    const ioas = ioasAlloc();
    const { devid } = bind();
    expect(attach(99).ret).toBe(errno('ENOENT'));
    expect(attach(devid).ret).toBe(errno('EINVAL'));
    expect(attach(ioas)).toEqual({ ret: 0, pt: 3 });
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: ioas }).ret).toBe(errno('EBUSY'));
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 3 }).ret).toBe(errno('EBUSY'));
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: devid }).ret).toBe(errno('EBUSY'));
    const hw = h.call(IOMMUFD, 'IOMMU_HWPT_ALLOC', { dev_id: devid, pt_id: ioas });
    expect([hw.ret, hw.out!.num('out_hwpt_id')]).toEqual([0, 4]);
    // Replacing the automatic HWPT frees it (id 3).
    expect(attach(4)).toEqual({ ret: 0, pt: 4 });
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 3 }).ret).toBe(errno('ENOENT'));
    expect(h.call(CDEV, 'VFIO_DEVICE_DETACH_IOMMUFD_PT').ret).toBe(0);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 4 }).ret).toBe(0);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: ioas }).ret).toBe(0);
  });

  it('attach is refused while a mapping sits where the domain reserves IOVA', () => {
    const ioas = ioasAlloc();
    bind();
    expect(map(ioas, { flags: FIXED, length: 0x1000, iova: 0xfee00000 }).ret).toBe(0);
    expect(attach(ioas).ret).toBe(errno('EADDRINUSE'));
    unmap(ioas, 0n, U64_MAX);
    expect(attach(ioas).ret).toBe(0);
  });

  it('closing the cdev unbinds it: the device and its automatic HWPT leave the iommufd', () => {
    const ioas = ioasAlloc();
    bind();
    attach(ioas);
    h.paths.delete(CDEV);
    h.open(5, '/dev/vfio/devices/vfio0');
    expect(bind(5)).toEqual({ ret: 0, devid: 2 });
    // The automatic HWPT (id 3) went with the old file; the IOAS is free again.
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 3 }).ret).toBe(errno('ENOENT'));
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: ioas }).ret).toBe(0);
  });

  it('a group-path device fd answers BIND with EINVAL and ATTACH with ENOTTY', () => {
    const { container } = h.setup();
    h.call(container, 'VFIO_SET_IOMMU', 3n);
    const dev = h.device();
    expect(h.call(dev, 'VFIO_DEVICE_BIND_IOMMUFD', { iommufd: IOMMUFD }).ret).toBe(errno('EINVAL'));
    expect(h.call(dev, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', { pt_id: 1 }).ret).toBe(errno('ENOTTY'));
  });
});

describe('a group set to an iommufd (compatibility mode)', () => {
  const GROUP = 6;
  const compatSetup = (): void => {
    h.open(GROUP, '/dev/vfio/42');
    expect(h.call(GROUP, 'VFIO_GROUP_SET_CONTAINER', IOMMUFD).ret).toBe(0);
  };
  const dma = (name: string, v: Record<string, number | bigint>): ReturnType<Harness['call']> => h.call(IOMMUFD, name, v, {});

  it('SET_CONTAINER takes the iommufd and makes its compat IOAS; SET_IOMMU wants type1 and a group', () => {
    expect(h.call(IOMMUFD, 'VFIO_SET_IOMMU', 3n).ret).toBe(errno('ENODEV'));
    compatSetup();
    expect(h.call(GROUP, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(3);
    expect(h.call(GROUP, 'VFIO_GROUP_SET_CONTAINER', IOMMUFD).ret).toBe(errno('EINVAL'));
    const got = h.call(IOMMUFD, 'IOMMU_VFIO_IOAS', { op: 0 });
    expect([got.ret, got.out!.num('ioas_id')]).toEqual([0, 1]);
    expect(h.call(IOMMUFD, 'VFIO_SET_IOMMU', 7n).ret).toBe(errno('EINVAL'));
    expect(h.call(IOMMUFD, 'VFIO_SET_IOMMU', 3n).ret).toBe(0);
    const ext = (e: number): number => h.call(IOMMUFD, 'VFIO_CHECK_EXTENSION', BigInt(e)).ret;
    expect([1, 3, 9, 10, 4].map(ext)).toEqual([1, 1, 1, 0, 1]);
    expect(h.call(IOMMUFD, 'VFIO_GET_API_VERSION').ret).toBe(0);
  });

  it('the device fd binds and attaches to the compat IOAS; MAP/UNMAP_DMA act on it with iommufd’s rules', () => {
    compatSetup();
    h.call(IOMMUFD, 'VFIO_SET_IOMMU', 3n);
    const r = h.call(GROUP, 'VFIO_GROUP_GET_DEVICE_FD', h.k.profile.address);
    expect(r.verdict.action).toBe('openat');
    if (r.verdict.action === 'openat') h.open(5, r.verdict.path);
    // Device 2 and its automatic HWPT 3 hold the IOAS.
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 2 }).ret).toBe(errno('EBUSY'));
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 1 }).ret).toBe(errno('EBUSY'));
    const RWf = 3;
    expect(dma('VFIO_IOMMU_MAP_DMA', { flags: RWf, vaddr: 0x7f0000000000n, iova: 0x100000, size: 0x200000 }).ret).toBe(0);
    expect(dma('VFIO_IOMMU_MAP_DMA', { flags: RWf, vaddr: 0x7f0000000000n, iova: 0x200000, size: 0x1000 }).ret).toBe(errno('EEXIST'));
    // The attached domain reserves the MSI window.
    expect(dma('VFIO_IOMMU_MAP_DMA', { flags: RWf, vaddr: 0x7f0000000000n, iova: 0xfee00000, size: 0x1000 }).ret).toBe(errno('EINVAL'));
    expect(dma('VFIO_IOMMU_MAP_DMA', { flags: 4, vaddr: 0x7f0000000000n, iova: 0x400000, size: 0x1000 }).ret).toBe(errno('EINVAL'));
    const half = dma('VFIO_IOMMU_UNMAP_DMA', { iova: 0x100000, size: 0x100000 });
    expect([half.ret, half.out!.get('size')]).toEqual([errno('ENOENT'), 0n]);
    const all = dma('VFIO_IOMMU_UNMAP_DMA', { flags: 2 });
    expect([all.ret, all.out!.get('size')]).toEqual([0, 0x200000n]);
    const info = dma('VFIO_IOMMU_GET_INFO', { argsz: 256 } as Record<string, number>);
    expect(info.ret).toBe(0);
    expect(info.out!.num('flags')).toBe(3);
    // iommufd writes back the size the caps need even when there was room: 24 + DMA_AVAIL 12 + IOVA_RANGE 16 + 2 × 16.
    expect(info.out!.num('argsz')).toBe(84);
    expect(info.out!.num('cap_offset')).toBe(24);
    expect(info.out!.get('iova_pgsizes')).toBe((1n << 12n) | (1n << 21n) | (1n << 30n));
  });

  it('type1 v1 may unmap part of a mapping (large pages given up)', () => {
    compatSetup();
    h.call(IOMMUFD, 'VFIO_SET_IOMMU', 1n);
    dma('VFIO_IOMMU_MAP_DMA', { flags: 3, vaddr: 0x7f0000000000n, iova: 0x100000, size: 0x200000 });
    const half = dma('VFIO_IOMMU_UNMAP_DMA', { iova: 0x100000, size: 0x100000 });
    expect([half.ret, half.out!.get('size')]).toEqual([0, 0x100000n]);
    expect(dma('VFIO_IOMMU_UNMAP_DMA', { flags: 2 }).out!.get('size')).toBe(0x100000n);
  });

  it('closing the device unbinds it; closing the group lets the iommufd go', () => {
    compatSetup();
    const r = h.call(GROUP, 'VFIO_GROUP_GET_DEVICE_FD', h.k.profile.address);
    if (r.verdict.action === 'openat') h.open(5, r.verdict.path);
    h.paths.delete(5);
    // The next group call sees the device file gone: device 2 and HWPT 3 leave the iommufd.
    expect(h.call(GROUP, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(3);
    expect(h.call(IOMMUFD, 'IOMMU_DESTROY', { id: 2 }).ret).toBe(errno('ENOENT'));
    h.paths.delete(GROUP);
    h.open(7, '/dev/vfio/42');
    expect(h.call(7, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(1);
    // UNSET_CONTAINER of an iommufd just lets it go.
    expect(h.call(7, 'VFIO_GROUP_SET_CONTAINER', IOMMUFD).ret).toBe(0);
    expect(h.call(7, 'VFIO_GROUP_UNSET_CONTAINER').ret).toBe(0);
    expect(h.call(7, 'VFIO_GROUP_UNSET_CONTAINER').ret).toBe(errno('EINVAL'));
  });
});
