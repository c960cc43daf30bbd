// A machine with several PCI functions, each in an IOMMU group of its own:
// both groups in one container under one IOMMU, a device fd per group, and
// the container's IOMMU kept while any group remains; the cdevs numbered in
// order; machines that cannot exist refused.

import { afterEach, describe, expect, it } from 'vitest';
import { deviceSpec } from '../../src/commands/emulate.js';
import { checkMachine } from '../../src/emulate/kernel.js';
import type { EehRule } from '../../src/emulate/eehScript.js';
import { edu } from '../../src/emulate/profiles/edu.js';
import { powerEeh } from '../../src/emulate/profiles/powerEeh.js';
import { x86Pci } from '../../src/emulate/profiles/x86pci.js';
import { errno, Harness } from './harness.js';

const second = { ...structuredClone(x86Pci), address: '0000:02:00.0', group: 43 };
let h: Harness;
afterEach(() => h.dispose());

describe('two functions in one machine', () => {
  it('both groups share a container and its IOMMU; each hands out its own device', () => {
    h = new Harness(structuredClone(x86Pci), [], [second]);
    const c = h.open(3, '/dev/vfio/vfio');
    const g1 = h.open(4, '/dev/vfio/42');
    const g2 = h.open(6, '/dev/vfio/43');
    expect(h.call(g1, 'VFIO_GROUP_SET_CONTAINER', c).ret).toBe(0);
    expect(h.call(c, 'VFIO_SET_IOMMU', 3n).ret).toBe(0);
    // A group joins a container whose IOMMU is already set.
    expect(h.call(g2, 'VFIO_GROUP_SET_CONTAINER', c).ret).toBe(0);
    expect(h.call(c, 'VFIO_SET_IOMMU', 3n).ret).toBe(errno('EINVAL'));
    // Each group knows only its own function.
    expect(h.call(g1, 'VFIO_GROUP_GET_DEVICE_FD', '0000:02:00.0').ret).toBe(errno('ENODEV'));
    const d1 = h.call(g1, 'VFIO_GROUP_GET_DEVICE_FD', '0000:01:00.0').verdict;
    const d2 = h.call(g2, 'VFIO_GROUP_GET_DEVICE_FD', '0000:02:00.0').verdict;
    expect(d1.action === 'openat' && d2.action === 'openat' && d1.path !== d2.path).toBe(true);
    const [f1, f2] = h.k.functions;
    expect([h.k.kindOf(f1!.backing.path), h.k.kindOf(f2!.backing.path)]).toEqual(['device', 'device']);
    expect([f1!.cdevPath, f2!.cdevPath]).toEqual(['/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio1']);
    // The first group goes (no device fd was opened): the container keeps the second and its IOMMU.
    h.paths.delete(g1);
    expect(h.call(g2, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(3);
    expect(h.k.containerOf(4242, c)?.iommuType).toBe(3);
    h.paths.delete(g2);
    h.open(7, '/dev/vfio/43');
    expect(h.call(7, 'VFIO_GROUP_GET_STATUS').out!.num('flags')).toBe(1);
    expect(h.k.containerOf(4242, c)?.iommuType).toBe(null);
  });

  it('a machine has one IOMMU and one kernel release; addresses and groups differ', () => {
    h = new Harness(structuredClone(x86Pci));
    expect(() => checkMachine([x86Pci, structuredClone(x86Pci)])).toThrow(/two devices at 0000:01:00.0/);
    expect(() => checkMachine([x86Pci, { ...second, group: 42 }])).toThrow(/IOMMU group 42/);
    expect(() => checkMachine([x86Pci, powerEeh])).toThrow(/one IOMMU per machine/);
    expect(() => checkMachine([x86Pci, { ...second, kernel: '6.1' }])).toThrow(/kernel 6.1/);
    expect(() => checkMachine([x86Pci, edu])).not.toThrow();
    // An EEH script drives one PE.
    const rule = { after: 1, op: 2, state: 2, until: [] } as unknown as EehRule;
    expect(() => new Harness(structuredClone(x86Pci), [rule], [second])).toThrow(/one function/);
  });
});

describe('--device PROFILE[,address=ADDR][,group=N]', () => {
  it('reads the overrides and refuses anything else', () => {
    h = new Harness(structuredClone(x86Pci));
    expect(deviceSpec('x86-pci')).toEqual({ device: 'x86-pci' });
    expect(deviceSpec('edu,address=0000:03:00.0,group=7')).toEqual({ device: 'edu', address: '0000:03:00.0', group: 7 });
    expect(() => deviceSpec('edu,slot=3')).toThrow(/want PROFILE/);
    expect(() => deviceSpec('edu,group=x')).toThrow(/invalid IOMMU group/);
  });
});
