// Which ioctl a shared number means: by fd kind, by the container's last
// VFIO_SET_IOMMU (even a failed one), by architecture, else ambiguous.

import { describe, expect, it } from 'vitest';
import { bytes, nr, PATH, rules, session } from './helpers.js';
import { ProcessEventKind } from '../../src/trace/events.js';

const eeh = (le = true) => bytes(le, [['u32', 12], ['u32', 0], ['u32', 4]]);
const info16 = bytes(true, [['u32', 16], ['u32', 0], ['u64', 0]]);

describe('resolution', () => {
  it('a number only one ioctl has is unique', () => {
    const { call } = session();
    const ev = call({ nr: nr(3), path: PATH.group, entry: bytes(true, [['u32', 8], ['u32', 0]]) });
    expect(ev.ioctl).toBe('VFIO_GROUP_GET_STATUS');
    expect(ev.resolution).toBe('unique');
    expect(ev.fdKind).toBe('group');
  });

  it('0x3B79 is EEH on a container and MIG_GET_PRECOPY_INFO on a migration fd', () => {
    const { call, dec } = session();
    expect(call({ nr: nr(21), entry: eeh() }).ioctl).toBe('VFIO_EEH_PE_OP');
    dec.createdFd(100, 9, 'migration');
    const ev = call({ nr: nr(21), fd: 9, path: 'anon_inode:[vfio-mig]', entry: bytes(true, [['u32', 24], ['u32', 0], ['u64', 0], ['u64', 0]]) });
    expect(ev.ioctl).toBe('VFIO_MIG_GET_PRECOPY_INFO');
    expect(ev.resolution).toBe('fd-kind');
    expect(ev.fdKind).toBe('migration');
  });

  it('the container backend set by VFIO_SET_IOMMU picks between type1 and sPAPR', () => {
    const { call } = session('ppc64le');
    call({ nr: nr(2), arg: 3n });
    const t1 = call({ nr: nr(12), entry: info16 });
    expect(t1.ioctl).toBe('VFIO_IOMMU_GET_INFO');
    expect(t1.resolution).toBe('iommu-type');
    call({ nr: nr(2), arg: 7n });
    const sp = call({ nr: nr(12), entry: info16 });
    expect(sp.ioctl).toBe('VFIO_IOMMU_SPAPR_TCE_GET_INFO');
    expect(sp.resolution).toBe('iommu-type');
    // 17 is DIRTY_PAGES on type1 and REGISTER_MEMORY on sPAPR v2.
    expect(call({ nr: nr(17), entry: bytes(true, [['u32', 24], ['u32', 0], ['u64', 0], ['u64', 0]]) }).ioctl).toBe('VFIO_IOMMU_SPAPR_REGISTER_MEMORY');
  });

  it('a failed VFIO_SET_IOMMU still picks, flagged with a finding naming it', () => {
    const { call } = session();
    const set = call({ nr: nr(2), arg: 7n, ret: 'ENODEV' });
    const ev = call({ nr: nr(12), entry: info16 });
    expect(ev.ioctl).toBe('VFIO_IOMMU_SPAPR_TCE_GET_INFO');
    expect(ev.resolution).toBe('iommu-type-failed');
    const f = ev.findings.find((x) => x.rule === 'resolved-by-failed-set-iommu');
    expect(f?.events).toEqual([set.seq]);
  });

  it('a call whose name was never in doubt gets no note from a failed VFIO_SET_IOMMU (a retried SET_IOMMU, CHECK_EXTENSION)', () => {
    const { call } = session();
    call({ nr: nr(2), arg: 7n, ret: 'ENODEV' });
    const retry = call({ nr: nr(2), arg: 3n });
    expect(retry.ioctl).toBe('VFIO_SET_IOMMU');
    expect(retry.findings.map((f) => f.rule)).not.toContain('resolved-by-failed-set-iommu');
    const check = call({ nr: nr(1), arg: 3n, ret: 1 });
    expect(check.ioctl).toBe('VFIO_CHECK_EXTENSION');
    expect(check.findings.map((f) => f.rule)).not.toContain('resolved-by-failed-set-iommu');
  });

  it('without SET_IOMMU the architecture decides: sPAPR only on POWER', () => {
    expect(session('x86_64').call({ nr: nr(12), entry: info16 })).toMatchObject({ ioctl: 'VFIO_IOMMU_GET_INFO', resolution: 'arch' });
    expect(session('ppc64le').call({ nr: nr(12), entry: info16 })).toMatchObject({ ioctl: 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', resolution: 'arch' });
    expect(session('aarch64').call({ nr: nr(17), entry: bytes(true, [['u32', 8], ['u32', 1]]) }).ioctl).toBe('VFIO_IOMMU_DIRTY_PAGES');
  });

  it('an fd of unknown kind leaves every candidate and no name', () => {
    const ev = session().call({ nr: nr(12), path: '/tmp/something', entry: info16 });
    expect(ev.fdKind).toBe('other');
    expect(ev.resolution).toBe('ambiguous');
    expect(ev.ioctl).toBeNull();
    expect(ev.candidates).toEqual(expect.arrayContaining(['VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO']));
    expect(ev.in).toBeNull();
  });

  it('unknown numbers are shown as numbers, never guessed', () => {
    const { call } = session();
    const ev = call({ nr: 0x99 });
    expect(ev).toMatchObject({ ioctl: null, resolution: 'unknown', candidates: [], request: 0x3b99 });
    // A powerpc-encoded number on x86 is not a VFIO ioctl, and the reverse.
    expect(call({ nr: 0, request: 0x20003b79, entry: eeh() }).resolution).toBe('unknown');
    expect(session('ppc64').call({ nr: 0, request: 0x3b79, entry: eeh(false) }).resolution).toBe('unknown');
    expect(session('ppc64').call({ nr: nr(21), entry: eeh(false) }).ioctl).toBe('VFIO_EEH_PE_OP');
  });

  it('an sPAPR-only ioctl on a type1 container is named, with a finding', () => {
    const { call } = session();
    call({ nr: nr(2), arg: 1n });
    const ev = call({ nr: nr(21), entry: eeh(), ret: 'ENOTTY' });
    expect(ev.ioctl).toBe('VFIO_EEH_PE_OP');
    expect(rules(ev)).toContain('ioctl-wrong-backend');
  });

  it('a VFIO_SET_IOMMU on a reused fd number does not leak into a new container', () => {
    const { call } = session('ppc64le');
    call({ nr: nr(2), arg: 3n });
    call({ nr: nr(12), path: '/tmp/file', entry: info16 }); // fd 3 closed and reopened as a file
    expect(call({ nr: nr(12), entry: info16 }).resolution).toBe('arch');
  });
});

describe('fd kinds', () => {
  it('from paths', () => {
    const { call } = session();
    expect(call({ nr: 0x99, path: '/dev/vfio/noiommu-3' }).fdKind).toBe('group');
    expect(call({ nr: 0x99, path: '/dev/vfio/devices/vfio12' }).fdKind).toBe('device');
    expect(call({ nr: 0x99, path: PATH.deviceAnon }).fdKind).toBe('device');
    expect(call({ nr: 0x99, path: PATH.iommufd }).fdKind).toBe('iommufd');
    expect(call({ nr: 0x99, path: '/dev/vfio/devices/vfiox' }).fdKind).toBe('other');
  });

  it('from fds created by calls: device, dma-buf, migration data fd', () => {
    const { call, dec } = session();
    const g = call({ nr: nr(6), path: PATH.group, entry: new TextEncoder().encode('0000:06:0d.0'), ret: 5 });
    expect(g.ret.newFd).toEqual({ fd: 5, kind: 'device' });
    expect(dec.fdKind(100, 5)).toBe('device');
    const d = call({ nr: nr(15), fd: 5, path: PATH.deviceAnon, entry: bytes(true, [['u32', 1]]), ret: 9 });
    expect(d.ret.newFd).toEqual({ fd: 9, kind: 'dmabuf' });
    expect(call({ nr: 0x99, fd: 9, path: '/dmabuf:' }).fdKind).toBe('dmabuf');
    const mig = call({
      nr: nr(17), fd: 5, path: PATH.deviceAnon,
      entry: bytes(true, [['u32', 16], ['u32', 2 | (1 << 17)], ['u32', 3], ['s32', -1]]),
      exit: bytes(true, [['u32', 16], ['u32', 2 | (1 << 17)], ['u32', 3], ['s32', 11]]),
    });
    expect(mig.ret.newFd).toEqual({ fd: 11, kind: 'migration' });
    expect(call({ nr: nr(21), fd: 11, path: 'anon_inode:[vfio-mig]', entry: bytes(true, [['u32', 24], ['u32', 0], ['u64', 0], ['u64', 0]]) }).ioctl).toBe('VFIO_MIG_GET_PRECOPY_INFO');
  });

  it('exec forgets close-on-exec fds (device, dma-buf, migration) but keeps container state', () => {
    const { dec, call } = session('ppc64le');
    call({ nr: nr(2), arg: 3n });
    call({ nr: nr(6), fd: 4, path: PATH.group, entry: new TextEncoder().encode('x'), ret: 7 });
    dec.decode({ type: 'process', offset: 0, kind: ProcessEventKind.Exec, pid: 100, tid: 100, ts: 0n, value: 0, other: 0, text: '/usr/bin/next' });
    expect(dec.fdKind(100, 7)).toBe('other');
    expect(call({ nr: nr(12), entry: bytes(true, [['u32', 16], ['u32', 0], ['u64', 0]]) }).resolution).toBe('iommu-type');
  });

  it('children inherit their parent\'s fds; sequence numbers count every event in order', () => {
    const { dec, call } = session();
    const a = call({ nr: nr(6), path: PATH.group, entry: new TextEncoder().encode('x'), ret: 7 });
    const p = dec.decode({ type: 'process', offset: 0, kind: ProcessEventKind.Start, pid: 200, tid: 200, ts: 0n, value: 0, other: 100, text: 'child' });
    expect(dec.fdKind(200, 7)).toBe('device');
    const b = call({ nr: 0x99 });
    expect([a.seq, p.seq, b.seq]).toEqual([0, 1, 2]);
    dec.decode({ type: 'process', offset: 0, kind: ProcessEventKind.Exit, pid: 200, tid: 200, ts: 0n, value: 0, other: 0, text: '' });
    expect(dec.fdKind(200, 7)).toBe('other');
  });
});
