// iommufd: the `size` convention, write-backs, and VFIO compat numbers on /dev/iommu.

import { describe, expect, it } from 'vitest';
import { findField, fieldValue } from '../../src/decode/tree.js';
import { bytes, nr, PATH, rules, session } from './helpers.js';

const fd = { path: PATH.iommufd };

describe('iommufd', () => {
  it('IOAS_IOVA_RANGES: EMSGSIZE still writes num_iovas back', () => {
    const e = bytes(true, [['u32', 32], ['u32', 2], ['u32', 1], ['u32', 0], ['u64', 0x7000], ['u64', 0]]);
    const x = bytes(true, [['u32', 32], ['u32', 2], ['u32', 3], ['u32', 0], ['u64', 0x7000], ['u64', 0x1000]]);
    const ev = session().call({ nr: 0x84, ...fd, entry: e, exit: x, ret: 'EMSGSIZE' });
    expect(ev.ioctl).toBe('IOMMU_IOAS_IOVA_RANGES');
    expect(findField(ev.out, 'num_iovas')).toMatchObject({ value: 3n, changed: true });
    expect(ev.ret.meaning).toMatch(/num_iovas now says/);
  });

  it('IOAS_MAP writes iova back; flags named', () => {
    const e = bytes(true, [['u32', 40], ['u32', 6], ['u32', 2], ['u32', 0], ['u64', 0x7f0000000000n], ['u64', 0x200000], ['u64', 0]]);
    const x = bytes(true, [['u32', 40], ['u32', 6], ['u32', 2], ['u32', 0], ['u64', 0x7f0000000000n], ['u64', 0x200000], ['u64', 0x100000]]);
    const ev = session().call({ nr: 0x85, ...fd, entry: e, exit: x });
    expect(findField(ev.in, 'flags')?.display).toBe('IOMMU_IOAS_MAP_WRITEABLE|IOMMU_IOAS_MAP_READABLE');
    expect(fieldValue(ev.out, 'iova')).toBe(0x100000n);
    expect(findField(ev.out, 'length')).toBeNull();
  });

  it('a caller with an older, smaller struct is fine; a non-zero __reserved is reported', () => {
    const { call } = session();
    expect(rules(call({ nr: 0x86, ...fd, entry: bytes(true, [['u32', 24], ['u32', 1], ['u64', 0], ['u64', 0x1000]]) }))).toEqual([]);
    expect(rules(call({ nr: 0x85, ...fd, entry: bytes(true, [['u32', 40], ['u32', 0], ['u32', 2], ['u32', 9], ['u64', 0], ['u64', 0], ['u64', 0]]) }))).toContain('reserved-nonzero');
  });

  it('VFIO container numbers on an iommufd go to the type1 compat layer', () => {
    const { call } = session('ppc64le');
    expect(call({ nr: nr(0), ...fd }).ioctl).toBe('VFIO_GET_API_VERSION');
    const info = call({ nr: nr(12), ...fd, entry: bytes(true, [['u32', 16], ['u32', 0], ['u64', 0]]) });
    expect(info).toMatchObject({ ioctl: 'VFIO_IOMMU_GET_INFO', resolution: 'fd-kind' });
    expect(call({ nr: nr(21), ...fd, entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', 1]]), ret: 'ENOTTY' }).findings.map((f) => f.rule)).toContain('ioctl-wrong-fd-kind');
  });

  it('fault queue and vEVENTQ fds are reported as new fds', () => {
    const x = bytes(true, [['u32', 16], ['u32', 0], ['u32', 7], ['u32', 21]]);
    const ev = session().call({ nr: 0x8e, ...fd, entry: bytes(true, [['u32', 16], ['u32', 0], ['u32', 0], ['u32', 0]]), exit: x });
    expect(ev.ret.newFd).toEqual({ fd: 21, kind: 'other' });
  });
});
