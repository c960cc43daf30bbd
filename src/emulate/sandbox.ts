// Where the emulated device appears for the traced command only: inside the
// private mount namespace of src/trace/sandbox.ts (a fresh /dev holding
// /dev/vfio/vfio and /dev/vfio/GROUP as plain files), this adds a sysfs view
// built in a staging directory and bind-mounted over
//   /sys/bus/pci/devices        (the host's entries + ADDR/)
//   /sys/kernel/iommu_groups    (GROUP/devices/ADDR)
//   /sys/module                 (the host's modules + vfio, vfio_pci, … : sysfsDriver.ts)
//   /sys/bus/pci/drivers        (the host's drivers + vfio-pci/ADDR)
// so `-device vfio-pci,host=ADDR` finds the group link, and DPDK finds the
// modules loaded and the device bound, as on real hardware. On kernels with
// iommufd, /dev/iommu is there too, each device's backing file is bound at
// its cdev path and ADDR/vfio-dev/vfioN names it. Nothing changes on the host.

import { mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sandboxArgv } from '../trace/sandbox.js';
import { wrapperLayer } from '../trace/wrapper.js';
import { regionOffset, regionSizes } from './backing.js';
import { buildConfigSpace } from './pciConfig.js';
import { cdevPath, hasModernPath, IOMMUFD_PATH } from './cdev.js';
import type { Profile } from './profile.js';
import { buildDriverSysfs, HOST_MODULES, HOST_PCI_DRIVERS, type HostDriverDirs } from './sysfsDriver.js';

const hex = (v: number, w: number): string => `0x${v.toString(16).padStart(w, '0')}`;

/**
 * Builds the sysfs staging tree under `stage` (which must exist) for the
 * machine's functions, in order. `devices`: their backing files, linked as
 * `stage/cdev/vfioN` for the cdev bind mounts.
 */
export function buildSysfs(
  stage: string,
  functions: readonly Profile[],
  hostPciDevices = '/sys/bus/pci/devices',
  hostDriverDirs?: HostDriverDirs,
  devices: readonly string[] = [],
): void {
  const devs = join(stage, 'pci-devices');
  mkdirSync(devs, { recursive: true });
  mkdirSync(join(stage, 'iommu_groups'), { recursive: true });
  const ours = new Set(functions.map((p) => p.address));
  // Keep the host's other PCI functions visible (their links are relative to /sys/bus/pci/devices).
  try {
    for (const name of readdirSync(hostPciDevices)) {
      if (ours.has(name)) continue;
      try {
        symlinkSync(readlinkSync(join(hostPciDevices, name)), join(devs, name));
      } catch {
        /* not a link: skip */
      }
    }
  } catch {
    /* no PCI on this host */
  }
  functions.forEach((p, k) => buildFunction(stage, p, k, devices[k]));
  buildDriverSysfs(stage, functions.map((p) => p.address), hostDriverDirs);
}

/** ADDR/ (ids, config, resource, links), its group, and on modern kernels vfio-dev/vfioN. */
function buildFunction(stage: string, p: Profile, index: number, device: string | undefined): void {
  const groups = join(stage, 'iommu_groups');
  mkdirSync(join(groups, String(p.group), 'devices'), { recursive: true });
  const d = join(stage, 'pci-devices', p.address);
  mkdirSync(d);
  const pci = p.pci;
  const files: Record<string, string> = {
    vendor: hex(pci.vendor, 4),
    device: hex(pci.device, 4),
    subsystem_vendor: hex(pci.subsystemVendor, 4),
    subsystem_device: hex(pci.subsystem, 4),
    class: hex(pci.classCode, 6),
    revision: hex(pci.revision, 2),
    irq: pci.intx ? '11' : '0',
    numa_node: '-1',
    enable: '1',
    driver_override: 'vfio-pci',
    uevent: `DRIVER=vfio-pci\nPCI_CLASS=${pci.classCode.toString(16).toUpperCase()}\nPCI_ID=${pci.vendor.toString(16).toUpperCase()}:${pci.device.toString(16).toUpperCase()}\nPCI_SLOT_NAME=${p.address}`,
  };
  for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), `${v}\n`);
  writeFileSync(join(d, 'config'), buildConfigSpace(pci));
  writeFileSync(join(d, 'resource'), `${resourceLines(p).join('\n')}\n`);
  symlinkSync(`../../../../kernel/iommu_groups/${p.group}`, join(d, 'iommu_group'));
  symlinkSync('../../../../bus/pci/drivers/vfio-pci', join(d, 'driver'));
  symlinkSync('../../../../bus/pci', join(d, 'subsystem'));
  symlinkSync(`../../../../bus/pci/devices/${p.address}`, join(groups, String(p.group), 'devices', p.address));
  writeFileSync(join(groups, String(p.group), 'type'), 'DMA\n');
  if (!hasModernPath(p)) return;
  // The cdev's char device: vfio-dev takes a dynamic major (511 is the first one handed out).
  const name = basename(cdevPath(index));
  const cdev = join(d, 'vfio-dev', name);
  mkdirSync(cdev, { recursive: true });
  writeFileSync(join(cdev, 'dev'), `511:${index}\n`);
  writeFileSync(join(cdev, 'uevent'), `MAJOR=511\nMINOR=${index}\nDEVNAME=vfio/devices/${name}\n`);
  if (device) {
    mkdirSync(join(stage, 'cdev'), { recursive: true });
    symlinkSync(device, join(stage, 'cdev', name));
  }
}

/** "start end flags" per BAR and ROM, as the kernel prints them (addresses from config). */
function resourceLines(p: Profile): string[] {
  const sizes = regionSizes(p);
  const lines: string[] = [];
  for (let i = 0; i < 7; i++) {
    const size = sizes[i] ?? 0n;
    const bar = p.pci.bars.find((b) => b.index === i);
    if (!bar || size === 0n) lines.push('0x0000000000000000 0x0000000000000000 0x0000000000000000');
    else {
      const start = 0xf0000000n + regionOffset(i) / (1n << 20n);
      const flags = bar.kind === 'io' ? 0x101n : 0x40200n | (bar.kind === 'mem64' ? 0x100000n : 0n) | (bar.prefetchable ? 0x2000n : 0n);
      const f = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;
      lines.push(`${f(start)} ${f(start + size - 1n)} ${f(flags)}`);
    }
  }
  return lines;
}

// Runs inside the namespace after the /dev step: bind the staged sysfs pieces.
const SYS_SCRIPT = [
  'set -e',
  'S=$1; shift',
  'for d in /sys/bus/pci/devices /sys/kernel/iommu_groups /sys/module /sys/bus/pci/drivers; do',
  '  [ -d "$d" ] || { echo "vfiotrace emulate: $d missing on this host" >&2; exit 126; }',
  'done',
  'mount --bind "$S/pci-devices" /sys/bus/pci/devices',
  'mount --bind "$S/iommu_groups" /sys/kernel/iommu_groups',
  // The host's entries stay reachable through the staged links (sysfsDriver.ts).
  `mount --bind /sys/module "$S/${HOST_MODULES}"`,
  `mount --bind /sys/bus/pci/drivers "$S/${HOST_PCI_DRIVERS}"`,
  'mount --bind "$S/modules" /sys/module',
  'mount --bind "$S/pci-drivers" /sys/bus/pci/drivers',
  // The cdev is the device's backing file: the same bytes as a group-path device fd.
  'for c in "$S"/cdev/*; do if [ -L "$c" ]; then mount --bind "$c" "/dev/vfio/devices/${c##*/}"; fi; done',
  'exec "$@"',
].join('\n');

/** argv running `command` where the emulated machine (its functions, in order) is visible. */
export function emulationArgv(command: readonly string[], functions: Profile | readonly Profile[], stage: string): string[] {
  const fns = Array.isArray(functions) ? functions : [functions as Profile];
  const modern = fns.length > 0 && hasModernPath(fns[0]!);
  return sandboxArgv(wrapperLayer('sh', SYS_SCRIPT, 'vfiotrace-emulate', [stage], command), {
    files: ['/dev/vfio/vfio', ...fns.map((p) => `/dev/vfio/${p.group}`), ...(modern ? [IOMMUFD_PATH, ...fns.map((_, k) => cdevPath(k))] : [])],
  });
}

export function removeStage(stage: string): void {
  rmSync(stage, { recursive: true, force: true });
}
