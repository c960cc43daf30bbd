// The emulated vfio-pci device fd: info ioctls, region caps retry, SET_IRQS
// rules, resets, hot reset info, features (docs/abi.md; docs/emulation.md).

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { regionOffset } from '../../src/emulate/backing.js';
import { x86Pci } from '../../src/emulate/profiles/x86pci.js';
import { VFIO_TYPE1v2_IOMMU } from '../../decoders/container.js';
import {
  VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
} from '../../decoders/device.js';
import { VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_PROBE, VFIO_DEVICE_FEATURE_SET } from '../../decoders/feature.js';
import {
  VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
} from '../../decoders/irqs.js';
import { errno, Harness } from './harness.js';

let h: Harness;
let d: number;
beforeEach(() => {
  h = new Harness(structuredClone(x86Pci));
  h.setup(VFIO_TYPE1v2_IOMMU);
  d = h.device();
});
afterEach(() => h.dispose());

const EVENTFD = 'anon_inode:[eventfd]';

function irqSet(flags: number, index: number, start: number, fds: number[], count = fds.length): Uint8Array {
  const b = new Uint8Array(20 + 4 * fds.length);
  const dv = new DataView(b.buffer);
  [b.length, flags, index, start, count].forEach((v, i) => dv.setUint32(i * 4, v, true));
  fds.forEach((fd, i) => dv.setInt32(20 + 4 * i, fd, true));
  return b;
}

describe('device info', () => {
  it('DEVICE_GET_INFO: PCI with reset, 9 regions, 5 IRQs; writes at most argsz bytes', () => {
    const r = h.call(d, 'VFIO_DEVICE_GET_INFO', {}, { size: 20 });
    expect([r.out!.num('flags'), r.out!.num('num_regions'), r.out!.num('num_irqs')]).toEqual([VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, 9, 5]);
    expect(r.verdict.action === 'return' && r.verdict.writes[0]!.bytes.length).toBe(20);
    expect(h.call(d, 'VFIO_DEVICE_GET_INFO', {}, { size: 12 }).ret).toBe(errno('EINVAL'));
  });

  it('GET_REGION_INFO: BAR sizes and offsets, EINVAL for VGA and past the last region, caps retry on the MSI-X BAR', () => {
    const bar0 = h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 0 }).out!;
    expect([bar0.get('size'), bar0.get('offset'), bar0.num('flags')]).toEqual([
      0x20000n, regionOffset(0), VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP,
    ]);
    expect(h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 2 }).out!.num('flags') & VFIO_REGION_INFO_FLAG_MMAP).toBe(0);
    expect(h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 7 }).out!.get('size')).toBe(4096n);
    expect(h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 8 }).ret).toBe(errno('EINVAL'));
    expect(h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 9 }).ret).toBe(errno('EINVAL'));
    const small = h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 3 }).out!;
    expect([small.num('argsz'), small.num('cap_offset'), small.num('flags') & VFIO_REGION_INFO_FLAG_CAPS]).toEqual([40, 0, VFIO_REGION_INFO_FLAG_CAPS]);
    const full = h.call(d, 'VFIO_DEVICE_GET_REGION_INFO', { index: 3 }, { size: 40 });
    expect(full.out!.num('cap_offset')).toBe(32);
    const dv = new DataView(full.mem.buffer);
    expect([dv.getUint16(32, true), dv.getUint16(34, true), dv.getUint32(36, true)]).toEqual([VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 0]);
  });

  it('GET_IRQ_INFO: INTx maskable, MSI-X vectors, ERR on PCIe, EINVAL past the last index', () => {
    const info = (index: number) => h.call(d, 'VFIO_DEVICE_GET_IRQ_INFO', { index });
    expect(info(0).out!.num('flags')).toBe(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED);
    expect(info(2).out!.num('count')).toBe(5);
    expect(info(3).out!.num('count')).toBe(1);
    expect(info(5).ret).toBe(errno('EINVAL'));
  });

  it('the device’s number space: group ioctls here are ENOTTY, BIND_IOMMUFD on a group-path fd is EINVAL', () => {
    expect(h.call(d, 'VFIO_GROUP_GET_STATUS', undefined, { request: 0x3b67 }).ret).toBe(errno('ENOTTY'));
    expect(h.call(d, 'VFIO_DEVICE_BIND_IOMMUFD').ret).toBe(errno('EINVAL'));
  });
});

describe('SET_IRQS', () => {
  const T = VFIO_IRQ_SET_ACTION_TRIGGER;
  const EFD = VFIO_IRQ_SET_DATA_EVENTFD;
  const set = (b: Uint8Array) => h.call(d, 'VFIO_DEVICE_SET_IRQS', b).ret;

  it('validates flags, ranges and payload size like vfio_set_irqs_validate_and_prepare', () => {
    h.open(10, EVENTFD);
    expect(set(irqSet(EFD | VFIO_IRQ_SET_DATA_BOOL | T, 2, 0, [10]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T | 0x40, 2, 0, [10]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 5, 0, [10]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 2, 5, [10]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 2, 4, [10, 10]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 2, 0, [10], 3))).toBe(errno('EINVAL')); // argsz too small for 3 fds
    expect(set(irqSet(EFD | T, 1, 0, [10, 10]))).toBe(errno('EINVAL')); // one MSI vector
  });

  it('supported actions only: MSI-X MASK and several ACTION bits are ENOTTY', () => {
    h.open(10, EVENTFD);
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 2, 0, [], 1))).toBe(errno('ENOTTY'));
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK | T, 0, 0, [], 1))).toBe(errno('ENOTTY'));
  });

  it('eventfds must be eventfds; one interrupt type at a time', () => {
    h.open(10, EVENTFD);
    h.open(11, '/tmp/file');
    expect(set(irqSet(EFD | T, 2, 0, [11]))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 2, 0, [12]))).toBe(errno('EBADF'));
    expect(set(irqSet(EFD | T, 0, 0, [10]))).toBe(0); // INTx on
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, [], 1))).toBe(0);
    expect(set(irqSet(EFD | T, 2, 0, [10]))).toBe(errno('EINVAL')); // MSI-X while INTx is on
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | T, 0, 0, [], 0))).toBe(0); // INTx off
    expect(set(irqSet(EFD | T, 2, 0, [10, -1, 10]))).toBe(0);
    expect(h.k.device.triggers[2]).toEqual([10, -1, 10]);
  });
});

describe('loopback trigger', () => {
  const T = VFIO_IRQ_SET_ACTION_TRIGGER;
  const EFD = VFIO_IRQ_SET_DATA_EVENTFD;
  const set = (b: Uint8Array) => h.call(d, 'VFIO_DEVICE_SET_IRQS', b).ret;
  // DATA_BOOL payload: one byte per vector after the 20-byte header.
  const bools = (flags: number, index: number, start: number, bytes: number[]): Uint8Array => {
    const b = new Uint8Array(20 + bytes.length);
    const dv = new DataView(b.buffer);
    [b.length, flags, index, start, bytes.length].forEach((v, i) => dv.setUint32(i * 4, v, true));
    b.set(bytes, 20);
    return b;
  };

  it('INTx: DATA_NONE and BOOL true signal even while masked; BOOL false does not; EINVAL while INTx is off', () => {
    h.open(10, EVENTFD);
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | T, 0, 0, [], 1))).toBe(errno('EINVAL'));
    expect(set(irqSet(EFD | T, 0, 0, [10]))).toBe(0);
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 0, [], 1))).toBe(0);
    expect(h.k.device.intxMasked).toBe(true);
    expect(set(irqSet(VFIO_IRQ_SET_DATA_NONE | T, 0, 0, [], 1))).toBe(0);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | T, 0, 0, [0]))).toBe(0);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | T, 0, 0, [1]))).toBe(0);
    expect(h.fired).toEqual([10, 10]);
  });

  it('INTx mask/unmask with DATA_BOOL act only on true', () => {
    h.open(10, EVENTFD);
    expect(set(irqSet(EFD | T, 0, 0, [10]))).toBe(0);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 0, 0, [0]))).toBe(0);
    expect(h.k.device.intxMasked).toBe(false);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 0, 0, [1]))).toBe(0);
    expect(h.k.device.intxMasked).toBe(true);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, [0]))).toBe(0);
    expect(h.k.device.intxMasked).toBe(true);
    expect(set(bools(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, [1]))).toBe(0);
    expect(h.k.device.intxMasked).toBe(false);
  });
});

describe('resets and features', () => {
  it('DEVICE_RESET restores config space in the backing file', () => {
    const at = Number(regionOffset(7));
    const fd = openSync(h.k.backing.path, 'r+');
    try {
      const read = (): Buffer => {
        const b = Buffer.alloc(64);
        readSync(fd, b, 0, 64, at);
        return b;
      };
      const before = read();
      expect(before.readUInt16LE(0)).toBe(0x8086);
      writeSync(fd, Buffer.from([0x07]), 0, 1, at + 4); // command: IO|MEM|MASTER, as a client would
      expect(read()[4]).toBe(7);
      expect(h.call(d, 'VFIO_DEVICE_RESET').ret).toBe(0);
      expect(read()).toEqual(before);
    } finally {
      closeSync(fd);
    }
  });

  it('GET_PCI_HOT_RESET_INFO: ENOSPC with the count needed, then the group and address', () => {
    const small = h.call(d, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO');
    expect([small.ret, small.out!.num('count')]).toEqual([errno('ENOSPC'), 1]);
    const full = h.call(d, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', {}, { size: 20 });
    expect(full.ret).toBe(0);
    expect([full.out!.num('devices[0].group_id'), full.out!.num('devices[0].bus'), full.out!.num('devices[0].devfn')]).toEqual([42, 1, 0]);
  });

  it('PCI_HOT_RESET needs the group fd', () => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 16, true);
    dv.setUint32(8, 1, true);
    dv.setInt32(12, 4, true);
    // Every check passes; the bus reset behind QEMU's root port then fails, as on the real kernel.
    expect(h.call(d, 'VFIO_DEVICE_PCI_HOT_RESET', b).ret).toBe(errno('ENOTTY'));
    dv.setInt32(12, 3, true);
    expect(h.call(d, 'VFIO_DEVICE_PCI_HOT_RESET', b).ret).toBe(errno('EINVAL'));
    dv.setUint32(8, 0, true);
    expect(h.call(d, 'VFIO_DEVICE_PCI_HOT_RESET', b).ret).toBe(errno('EINVAL'));
  });

  it('DEVICE_FEATURE: flag checks, no migration (ENOTTY), low-power probe', () => {
    const f = (flags: number, size = 8) => h.call(d, 'VFIO_DEVICE_FEATURE', { flags }, { size }).ret;
    expect(f(VFIO_DEVICE_FEATURE_GET | 1, 16)).toBe(errno('ENOTTY'));
    expect(f(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | 3)).toBe(errno('EINVAL'));
    expect(f(1 << 20)).toBe(errno('EINVAL'));
    expect(f(VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | 3)).toBe(0);
    expect(f(VFIO_DEVICE_FEATURE_SET | 4)).toBe(errno('EINVAL')); // wakeup needs its 8-byte payload
    expect(f(VFIO_DEVICE_FEATURE_SET | 4, 16)).toBe(0);
  });
});
