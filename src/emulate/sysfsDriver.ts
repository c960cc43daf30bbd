// The half of the emulated sysfs that says "vfio-pci is loaded and owns the
// device": /sys/module/{vfio,vfio_pci,vfio_iommu_type1} with their
// parameters, and /sys/bus/pci/drivers/vfio-pci with the device bound.
// Clients look here before they touch /dev/vfio (DPDK's EAL stats
// /sys/module/vfio and /sys/module/vfio_pci and gives up without them).
//
// Both directories are staged with the host's own entries kept visible: each
// host entry is a symlink into a bind mount of the host's directory (made in
// the namespace by sandbox.ts), so only the VFIO entries are new.

import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A module parameter as sysfs shows it: bools read "Y"/"N", uints in decimal. */
type Param = { name: string; value: boolean | number; writable: boolean };

/**
 * Parameters of the modules, with the kernel's defaults and permissions
 * (drivers/vfio/vfio_main.c or container.c, vfio_iommu_type1.c,
 * pci/vfio_pci.c). Only those present in a distribution kernel's build
 * (CONFIG_VFIO_NOIOMMU, CONFIG_PCI_IOV); `ids` has permission 0, so sysfs
 * never shows it.
 */
export const VFIO_MODULES: Readonly<Record<string, readonly Param[]>> = {
  vfio: [{ name: 'enable_unsafe_noiommu_mode', value: false, writable: true }],
  vfio_iommu_type1: [
    { name: 'allow_unsafe_interrupts', value: false, writable: true },
    { name: 'disable_hugepages', value: false, writable: true },
    { name: 'dma_entry_limit', value: 65535, writable: true },
  ],
  vfio_pci: [
    { name: 'nointxmask', value: false, writable: true },
    { name: 'disable_idle_d3', value: false, writable: true },
    { name: 'enable_sriov', value: false, writable: true },
    { name: 'disable_denylist', value: false, writable: false },
  ],
  // vfio_pci's library since 5.15: loaded with it, no parameters of its own.
  vfio_pci_core: [],
};

export const VFIO_PCI_DRIVER = 'vfio-pci';

/** Where the host's own directories are bind-mounted inside the stage. */
export const HOST_MODULES = 'host-modules';
export const HOST_PCI_DRIVERS = 'host-pci-drivers';

/** The host directories whose entries stay visible. */
export interface HostDriverDirs {
  modules: string;
  pciDrivers: string;
}

/** Links every host entry of `hostDir` (except `skip`) into `dir` via `mountPoint`. */
function keepHostEntries(dir: string, hostDir: string, mountPoint: string, skip: ReadonlySet<string>): void {
  let names: string[] = [];
  try {
    names = readdirSync(hostDir);
  } catch {
    /* not on this host */
  }
  for (const name of names) if (!skip.has(name)) symlinkSync(join(mountPoint, name), join(dir, name));
}

/**
 * Stages `modules/` (for /sys/module) and `pci-drivers/` (for
 * /sys/bus/pci/drivers) under `stage`, with the empty mount points
 * `host-modules/` and `host-pci-drivers/` the namespace binds the host's
 * directories onto.
 */
export function buildDriverSysfs(stage: string, addresses: readonly string[], host: HostDriverDirs = { modules: '/sys/module', pciDrivers: '/sys/bus/pci/drivers' }): void {
  const modules = join(stage, 'modules');
  const drivers = join(stage, 'pci-drivers');
  for (const d of [modules, drivers, join(stage, HOST_MODULES), join(stage, HOST_PCI_DRIVERS)]) mkdirSync(d, { recursive: true });
  keepHostEntries(modules, host.modules, join(stage, HOST_MODULES), new Set(Object.keys(VFIO_MODULES)));
  keepHostEntries(drivers, host.pciDrivers, join(stage, HOST_PCI_DRIVERS), new Set([VFIO_PCI_DRIVER]));
  for (const [name, params] of Object.entries(VFIO_MODULES)) {
    const m = join(modules, name);
    mkdirSync(m);
    writeFileSync(join(m, 'initstate'), 'live\n');
    if (params.length === 0) continue;
    mkdirSync(join(m, 'parameters'));
    for (const p of params) {
      const text = typeof p.value === 'boolean' ? (p.value ? 'Y' : 'N') : String(p.value);
      writeFileSync(join(m, 'parameters', p.name), `${text}\n`, { mode: p.writable ? 0o644 : 0o444 });
    }
  }
  // Relative links, as sysfs has them: /sys/module/vfio_pci/drivers/pci:vfio-pci
  // and /sys/bus/pci/drivers/vfio-pci/{ADDR,module}.
  mkdirSync(join(modules, 'vfio_pci', 'drivers'));
  symlinkSync(`../../../bus/pci/drivers/${VFIO_PCI_DRIVER}`, join(modules, 'vfio_pci', 'drivers', `pci:${VFIO_PCI_DRIVER}`));
  const drv = join(drivers, VFIO_PCI_DRIVER);
  mkdirSync(drv);
  for (const f of ['bind', 'unbind', 'new_id', 'remove_id']) writeFileSync(join(drv, f), '', { mode: 0o200 });
  writeFileSync(join(drv, 'uevent'), '', { mode: 0o200 });
  symlinkSync('../../../../module/vfio_pci', join(drv, 'module'));
  for (const a of addresses) symlinkSync(`../../../../bus/pci/devices/${a}`, join(drv, a));
}
