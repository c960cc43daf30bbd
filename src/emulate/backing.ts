// The file behind an emulated device fd. VFIO_GROUP_GET_DEVICE_FD is turned
// into an open() of this file, so the client's pread/pwrite/mmap at a
// region's offset reach real bytes: config space at region 7, BARs at 0-5.
// Regions sit at index << 40 like vfio-pci's (the offset is opaque to
// clients, but keeping the kernel's layout makes recordings look familiar);
// the file is sparse, so only touched pages take memory.

import { closeSync, mkdtempSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfigSpace } from './pciConfig.js';
import type { Profile } from './profile.js';
import { VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_NUM_REGIONS, VFIO_PCI_ROM_REGION_INDEX } from '../../decoders/device.js';

export const REGION_SHIFT = 40n;

export interface RegionLayout {
  index: number;
  offset: bigint;
  size: bigint;
}

export function regionOffset(index: number): bigint {
  return BigInt(index) << REGION_SHIFT;
}

/** Size of each vfio-pci region of a profile (0 when absent). */
export function regionSizes(p: Profile): bigint[] {
  const sizes = new Array<bigint>(VFIO_PCI_NUM_REGIONS).fill(0n);
  for (const b of p.pci.bars) sizes[b.index] = BigInt(b.size);
  sizes[VFIO_PCI_ROM_REGION_INDEX] = BigInt(p.pci.rom);
  sizes[VFIO_PCI_CONFIG_REGION_INDEX] = BigInt(p.pci.config?.length ?? (p.pci.pcie ? 4096 : 256));
  return sizes;
}

export class BackingFile {
  readonly path: string;
  readonly config: Uint8Array;
  private readonly ownsDir: string | null;

  /** Creates the file in `dir` (default: a fresh directory under /dev/shm or the temp dir). */
  constructor(
    readonly profile: Profile,
    dir?: string,
  ) {
    this.ownsDir = dir === undefined ? mkdtempSync(join(shmOrTmp(), 'vfiotrace-emu-')) : null;
    this.path = join(dir ?? this.ownsDir!, `vfio-device-${profile.address}`);
    this.config = buildConfigSpace(profile.pci);
    const fd = openSync(this.path, 'w+', 0o600);
    try {
      const sizes = regionSizes(profile);
      let end = 0n;
      sizes.forEach((s, i) => {
        if (s > 0n) end = regionOffset(i) + s;
      });
      ftruncateSync(fd, Number(end));
    } finally {
      closeSync(fd);
    }
    this.resetConfig();
  }

  /** Restores config space to the profile's (a function reset). */
  resetConfig(): void {
    const fd = openSync(this.path, 'r+');
    try {
      writeSync(fd, this.config, 0, this.config.length, Number(regionOffset(VFIO_PCI_CONFIG_REGION_INDEX)));
    } finally {
      closeSync(fd);
    }
  }

  dispose(): void {
    if (this.ownsDir) rmSync(this.ownsDir, { recursive: true, force: true });
  }
}

function shmOrTmp(): string {
  return process.platform === 'linux' ? '/dev/shm' : tmpdir();
}
