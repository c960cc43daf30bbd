// The file behind an emulated device fd. VFIO_GROUP_GET_DEVICE_FD is turned
// into an open() of this file, so the client's pread/pwrite/mmap at a
// region's offset reach real bytes: config space at region 7, BARs at 0-5.
// Regions sit at index << 40 like vfio-pci's (the offset is opaque to
// clients, but keeping the kernel's layout makes recordings look familiar);
// the file is sparse, so only touched pages take memory.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
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
  /** While frozen: each region's contents as they were, by region index. */
  private saved: Map<number, Buffer> | null = null;
  /** A reset was asserted while frozen: thawing brings the reset state, not the saved one. */
  private resetWhileFrozen = false;

  /** Creates the file in `dir` (default: a fresh directory under /dev/shm or the temp dir). */
  constructor(
    readonly profile: Profile,
    dir?: string,
  ) {
    this.ownsDir = dir === undefined ? mkdtempSync(join(shmOrTmp(), 'vfiotrace-emu-')) : null;
    this.path = backingPath(dir ?? this.ownsDir!, profile);
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

  /** Restores config space to the profile's (a function reset); while frozen, what the thaw will show. */
  resetConfig(): void {
    if (this.saved) {
      this.saved.get(VFIO_PCI_CONFIG_REGION_INDEX)?.set(this.config);
      return;
    }
    this.withFd((fd) => writeAll(fd, this.config, regionOffset(VFIO_PCI_CONFIG_REGION_INDEX)));
  }

  get frozen(): boolean {
    return this.saved !== null;
  }

  /**
   * The PE's MMIO is frozen: every region (config space, BARs, ROM) reads
   * all-ones, through pread and through mmaps of the file alike (they share
   * its pages). The contents are kept aside; writes made meanwhile land on
   * the all-ones copy and are lost at the thaw, as a frozen PE drops them.
   */
  freeze(): void {
    if (this.saved) return;
    const saved = new Map<number, Buffer>();
    this.withFd((fd) => {
      regionSizes(this.profile).forEach((size, index) => {
        if (size === 0n) return;
        const at = regionOffset(index);
        const b = Buffer.alloc(Number(size));
        for (let o = 0, n = 1; o < b.length && n > 0; o += n) n = readSync(fd, b, o, b.length - o, Number(at) + o);
        saved.set(index, b);
        writeAll(fd, Buffer.alloc(b.length, 0xff), at);
      });
    });
    this.saved = saved;
    this.resetWhileFrozen = false;
  }

  /** The PE is reset (hot or fundamental) while frozen: the thaw brings the device's reset state. */
  resetAsserted(): void {
    this.freeze();
    this.resetWhileFrozen = true;
  }

  /**
   * MMIO thaws. Without a reset the device is exactly as it was (UNFREEZE_IO);
   * after one, config space is the profile's (the host kernel restores the
   * saved config state on RESET_DEACTIVATE) and BAR memory is back at its
   * power-on contents (zeros: the emulated registers are plain memory).
   */
  thaw(): void {
    const saved = this.saved;
    if (!saved) return;
    this.saved = null;
    this.withFd((fd) => {
      for (const [index, b] of saved) {
        if (this.resetWhileFrozen) b.fill(0);
        if (this.resetWhileFrozen && index === VFIO_PCI_CONFIG_REGION_INDEX) b.set(this.config);
        writeAll(fd, b, regionOffset(index));
      }
    });
  }

  private withFd(fn: (fd: number) => void): void {
    const fd = openSync(this.path, 'r+');
    try {
      fn(fd);
    } finally {
      closeSync(fd);
    }
  }

  dispose(): void {
    if (this.ownsDir) rmSync(this.ownsDir, { recursive: true, force: true });
  }
}

function writeAll(fd: number, b: Uint8Array, at: bigint): void {
  for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o, Number(at) + o);
}

function shmOrTmp(): string {
  return process.platform === 'linux' ? '/dev/shm' : tmpdir();
}

/** Where the backing file of `profile`'s device lies in `dir`. */
export function backingPath(dir: string, profile: Profile): string {
  return join(dir, `vfio-device-${profile.address}`);
}
