// Profiles: JSON validation, the generated config space, the sysfs view and
// the backing file layout.

import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackingFile, regionOffset } from '../../src/emulate/backing.js';
import { buildConfigSpace, findCapability, PCI_CAP_ID } from '../../src/emulate/pciConfig.js';
import { loadProfileFile, profileFromJson } from '../../src/emulate/profile.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { buildSysfs } from '../../src/emulate/sandbox.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vft-emu-prof-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('profiles', () => {
  it('resolves built-ins with --address/--group and refuses bad values', () => {
    const p = resolveProfile('power-eeh', { address: '0001:02:03.4', group: 7 });
    expect([p.iommu, p.eeh, p.address, p.group]).toEqual(['spapr', true, '0001:02:03.4', 7]);
    expect(resolveProfile('x86-pci').address).toBe('0000:01:00.0');
    expect(() => resolveProfile('nope')).toThrow(/unknown device profile "nope"/);
    expect(() => resolveProfile('x86-pci', { address: '1:2:3' })).toThrow(/bad PCI address/);
  });

  it('validates user JSON and names the bad field', () => {
    const base = { iommu: 'type1', pci: { vendor: '0x1af4', device: 0x1041, bars: [{ index: 0, size: 4096 }] } };
    expect(profileFromJson(base).pci.vendor).toBe(0x1af4);
    expect(() => profileFromJson({ ...base, iommu: 'amd' })).toThrow(/profile.iommu/);
    expect(() => profileFromJson({ ...base, eeh: true })).toThrow(/EEH exists only with the sPAPR backend/);
    expect(() => profileFromJson({ ...base, pci: { ...base.pci, bars: [{ index: 0, size: 1000 }] } })).toThrow(/bars\[0\].size/);
    expect(() => profileFromJson({ ...base, pci: { ...base.pci, bars: [{ index: 5, size: 4096, kind: 'mem64' }] } })).toThrow(/bars\[0\].index/);
    expect(() => profileFromJson({ ...base, pci: { ...base.pci, msix: { vectors: 512, tableBar: 0, tableOffset: 0, pbaBar: 0, pbaOffset: 0x800 } } })).toThrow(/table does not fit/);
    expect(() => profileFromJson({ ...base, pci: { ...base.pci, vendor: -1 } })).toThrow(/profile.pci.vendor/);
  });

  it('takes a config space dump (hex) and its IDs from it', () => {
    const d = tmp();
    const cfg = buildConfigSpace(resolveProfile('x86-pci').pci);
    cfg[0] = 0x34;
    cfg[1] = 0x12;
    writeFileSync(join(d, 'config.hex'), Buffer.from(cfg).toString('hex'));
    writeFileSync(join(d, 'p.json'), JSON.stringify({ name: 'dump', iommu: 'type1', pci: { configFile: 'config.hex', bars: [{ index: 0, size: 0x20000 }] } }));
    const p = loadProfileFile(join(d, 'p.json'));
    expect([p.name, p.pci.vendor, p.pci.device, p.pci.config?.length]).toEqual(['dump', 0x1234, 0x10d3, 4096]);
    writeFileSync(join(d, 'bad.json'), '{ nope');
    expect(() => loadProfileFile(join(d, 'bad.json'))).toThrow(/bad.json/);
  });
});

describe('config space', () => {
  it('has the IDs, class, BAR types and a PM → MSI-X → PCIe capability list', () => {
    const p = resolveProfile('x86-pci').pci;
    const c = Buffer.from(buildConfigSpace(p));
    expect(c.length).toBe(4096);
    expect([c.readUInt16LE(0), c.readUInt16LE(2), c.readUIntLE(9, 3), c.readUInt16LE(0x2c)]).toEqual([0x8086, 0x10d3, 0x020000, 0x8086]);
    expect(c.readUInt32LE(0x10) & 0xf).toBe(0); // BAR0: 32-bit memory
    expect(c.readUInt32LE(0x18) & 0x1).toBe(1); // BAR2: I/O
    expect(c[0x3d]).toBe(1); // INTA
    const msix = findCapability(c, PCI_CAP_ID.MSIX);
    expect(msix).toBeGreaterThan(0);
    expect([c.readUInt16LE(msix + 2) + 1, c.readUInt32LE(msix + 4) & 7]).toEqual([5, 3]);
    const exp = findCapability(c, PCI_CAP_ID.EXP);
    expect(c.readUInt32LE(exp + 4) & 0x10000000).not.toBe(0); // FLR
    const pp = resolveProfile('power-eeh').pci;
    const pc = Buffer.from(buildConfigSpace(pp));
    expect(pc.readUInt32LE(0x10) & 0xe).toBe(0xc); // 64-bit prefetchable
  });
});

describe('sysfs view and backing file', () => {
  it('lays out the device and group as clients look for them', () => {
    const d = tmp();
    const hostDevs = join(d, 'host');
    writeFileSync(join(d, 'x'), '');
    const p = resolveProfile('x86-pci');
    buildSysfs(join(d, 'sys'), [p], hostDevs);
    const dev = join(d, 'sys', 'pci-devices', p.address);
    expect(readFileSync(join(dev, 'vendor'), 'utf8')).toBe('0x8086\n');
    expect(readFileSync(join(dev, 'device'), 'utf8')).toBe('0x10d3\n');
    expect(readFileSync(join(dev, 'class'), 'utf8')).toBe('0x020000\n');
    expect(readlinkSync(join(dev, 'iommu_group'))).toBe('../../../../kernel/iommu_groups/42');
    expect(lstatSync(join(d, 'sys', 'iommu_groups', '42', 'devices', p.address)).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dev, 'config')).subarray(0, 4)).toEqual(Buffer.from([0x86, 0x80, 0xd3, 0x10]));
    expect(readFileSync(join(dev, 'resource'), 'utf8').split('\n')[0]).toMatch(/^0x[0-9a-f]{16} 0x[0-9a-f]{16} 0x0000000000040200$/);
  });

  it('lays out every function of the machine: its own group, its cdev name, all bound to vfio-pci', () => {
    const d = tmp();
    const p = resolveProfile('x86-pci');
    const q = resolveProfile('edu');
    const stage = join(d, 'sys');
    writeFileSync(join(d, 'b0'), '');
    writeFileSync(join(d, 'b1'), '');
    buildSysfs(stage, [p, q], join(d, 'none'), { modules: join(d, 'hm'), pciDrivers: join(d, 'hd') }, [join(d, 'b0'), join(d, 'b1')]);
    const dev = (a: string, f: string): string => join(stage, 'pci-devices', a, f);
    expect(readlinkSync(dev(q.address, 'iommu_group'))).toBe(`../../../../kernel/iommu_groups/${q.group}`);
    expect(readFileSync(dev(p.address, 'vfio-dev/vfio0/dev'), 'utf8')).toBe('511:0\n');
    expect(readFileSync(dev(q.address, 'vfio-dev/vfio1/dev'), 'utf8')).toBe('511:1\n');
    // The cdev bind mounts take these links, by name.
    expect(readlinkSync(join(stage, 'cdev', 'vfio1'))).toBe(join(d, 'b1'));
    for (const a of [p.address, q.address]) expect(readlinkSync(join(stage, 'pci-drivers', 'vfio-pci', a))).toBe(`../../../../bus/pci/devices/${a}`);
  });

  it('shows vfio, vfio_pci and vfio_iommu_type1 loaded with their parameters, and the device bound to vfio-pci', () => {
    const d = tmp();
    const host = { modules: join(d, 'hm'), pciDrivers: join(d, 'hd') };
    for (const x of [join(host.modules, 'e1000e'), join(host.modules, 'vfio'), join(host.pciDrivers, 'e1000e')]) mkdirSync(x, { recursive: true });
    const p = resolveProfile('x86-pci');
    const stage = join(d, 'sys');
    buildSysfs(stage, [p], join(d, 'none'), host);
    const mod = (m: string, f: string): string => readFileSync(join(stage, 'modules', m, f), 'utf8');
    expect(mod('vfio', 'parameters/enable_unsafe_noiommu_mode')).toBe('N\n');
    expect(mod('vfio_iommu_type1', 'parameters/dma_entry_limit')).toBe('65535\n');
    expect(mod('vfio_iommu_type1', 'parameters/allow_unsafe_interrupts')).toBe('N\n');
    expect(mod('vfio_pci', 'parameters/disable_denylist')).toBe('N\n');
    expect(statSync(join(stage, 'modules', 'vfio_pci', 'parameters', 'disable_denylist')).mode & 0o777).toBe(0o444);
    expect(mod('vfio_pci', 'initstate')).toBe('live\n');
    // The host's own entries stay, through the namespace's bind mount of the host directory.
    expect(readlinkSync(join(stage, 'modules', 'e1000e'))).toBe(join(stage, 'host-modules', 'e1000e'));
    expect(lstatSync(join(stage, 'modules', 'vfio')).isDirectory()).toBe(true); // ours, not the host's
    expect(readlinkSync(join(stage, 'pci-drivers', 'e1000e'))).toBe(join(stage, 'host-pci-drivers', 'e1000e'));
    const drv = join(stage, 'pci-drivers', 'vfio-pci');
    expect(readlinkSync(join(drv, p.address))).toBe(`../../../../bus/pci/devices/${p.address}`);
    expect(readlinkSync(join(drv, 'module'))).toBe('../../../../module/vfio_pci');
    expect(readlinkSync(join(stage, 'modules', 'vfio_pci', 'drivers', 'pci:vfio-pci'))).toBe('../../../bus/pci/drivers/vfio-pci');
    expect(readlinkSync(join(stage, 'pci-devices', p.address, 'driver'))).toBe('../../../../bus/pci/drivers/vfio-pci');
  });

  it('backs regions at their offsets in a sparse file', () => {
    const d = tmp();
    const b = new BackingFile(resolveProfile('x86-pci'), d);
    const st = statSync(b.path);
    expect(BigInt(st.size)).toBe(regionOffset(7) + 4096n);
    expect(st.blocks * 512).toBeLessThan(1 << 20);
    b.dispose();
  });
});
