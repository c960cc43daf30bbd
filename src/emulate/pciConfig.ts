// PCI configuration space of the emulated function, generated from a profile
// (PCI Local Bus / PCIe base spec register offsets; not VFIO layouts). The
// capability list is PM → MSI → MSI-X → PCIe, which is what clients such as QEMU
// walk when they realize a vfio-pci device.

import type { PciSpec } from './profile.js';

const CAP_PM = 0x01;
const CAP_MSI = 0x05;
const MSI_64BIT = 0x0080;
const CAP_MSIX = 0x11;
const CAP_EXP = 0x10;
const STATUS_CAP_LIST = 0x10;
const PM_NO_SOFT_RESET = 0x0008;
const EXP_DEVCAP_FLR = 0x10000000;
const PCIE_CAP_SIZE = 0x3c;

/** Fake but plausible host addresses, so the BARs look assigned. */
const MEM_BASE = 0xfe000000;
const MEM64_BASE = 0x8000000000n;
const IO_BASE = 0xe000;

class Bytes {
  constructor(readonly b: Uint8Array) {}
  u8(off: number, v: number): void {
    this.b[off] = v & 0xff;
  }
  u16(off: number, v: number): void {
    this.u8(off, v);
    this.u8(off + 1, v >>> 8);
  }
  u32(off: number, v: number): void {
    this.u16(off, v & 0xffff);
    this.u16(off + 2, v >>> 16);
  }
}

/** Little-endian, as PCI config space always is. */
export function buildConfigSpace(pci: PciSpec): Uint8Array {
  if (pci.config) return new Uint8Array(pci.config);
  const size = pci.pcie ? 4096 : 256;
  const c = new Bytes(new Uint8Array(size));
  c.u16(0x00, pci.vendor);
  c.u16(0x02, pci.device);
  c.u16(0x06, STATUS_CAP_LIST);
  c.u8(0x08, pci.revision);
  c.u8(0x09, pci.classCode);
  c.u8(0x0a, pci.classCode >>> 8);
  c.u8(0x0b, pci.classCode >>> 16);
  c.u8(0x0c, 0x10);
  c.u8(0x0e, 0x00);
  let mem = MEM_BASE;
  let mem64 = MEM64_BASE;
  let io = IO_BASE;
  for (const bar of [...pci.bars].sort((a, b) => a.index - b.index)) {
    const off = 0x10 + 4 * bar.index;
    if (bar.kind === 'io') {
      c.u32(off, io | 0x1);
      io += Math.max(bar.size, 0x100);
    } else if (bar.kind === 'mem32') {
      mem = Math.ceil(mem / bar.size) * bar.size;
      c.u32(off, mem | (bar.prefetchable ? 0x8 : 0));
      mem += bar.size;
    } else {
      const size = BigInt(bar.size);
      mem64 = ((mem64 + size - 1n) / size) * size;
      c.u32(off, Number(mem64 & 0xfffffff0n) | 0x4 | (bar.prefetchable ? 0x8 : 0));
      c.u32(off + 4, Number(mem64 >> 32n));
      mem64 += size;
    }
  }
  c.u16(0x2c, pci.subsystemVendor);
  c.u16(0x2e, pci.subsystem);
  c.u8(0x3c, pci.intx ? 0x0b : 0xff);
  c.u8(0x3d, pci.intx ? 1 : 0);

  // Capability list.
  const caps: { id: number; len: number; fill: (at: number) => void }[] = [];
  caps.push({
    id: CAP_PM,
    len: 8,
    fill: (at) => {
      c.u16(at + 2, 0x0003); // PM spec 1.2
      c.u16(at + 4, PM_NO_SOFT_RESET); // D0, no soft reset: resets go through FLR
    },
  });
  if (pci.msi > 0) {
    caps.push({
      id: CAP_MSI,
      len: 14,
      // 64-bit address, Multiple Message Capable = log2(vectors), disabled.
      fill: (at) => c.u16(at + 2, MSI_64BIT | (Math.log2(pci.msi) << 1)),
    });
  }
  if (pci.msix) {
    const m = pci.msix;
    caps.push({
      id: CAP_MSIX,
      len: 12,
      fill: (at) => {
        c.u16(at + 2, m.vectors - 1);
        c.u32(at + 4, m.tableOffset | m.tableBar);
        c.u32(at + 8, m.pbaOffset | m.pbaBar);
      },
    });
  }
  if (pci.pcie) {
    caps.push({
      id: CAP_EXP,
      len: PCIE_CAP_SIZE,
      fill: (at) => {
        c.u16(at + 2, 0x0002); // version 2, type 0 = PCIe endpoint
        c.u32(at + 4, EXP_DEVCAP_FLR | 0x1); // FLR, max payload 256
        c.u16(at + 8, 0x2810); // devctl: relaxed ordering off, MPS 128, MRRS 512
        c.u32(at + 0x0c, 0x00400c41); // linkcap: 2.5 GT/s x4, port 0
        c.u16(at + 0x12, 0x1041); // linksta: x4 at 2.5 GT/s, slot clock
      },
    });
  }
  let at = 0x40;
  c.u8(0x34, caps.length ? at : 0);
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i]!;
    const next = i + 1 < caps.length ? at + ((cap.len + 3) & ~3) : 0;
    c.u8(at, cap.id);
    c.u8(at + 1, next);
    cap.fill(at);
    at = next;
  }
  return c.b;
}

/** Finds a standard capability's offset in a config space, or 0. */
export function findCapability(config: Uint8Array, id: number): number {
  let at = config[0x34] ?? 0;
  for (let guard = 0; at >= 0x40 && at < 256 && guard < 48; guard++) {
    if (config[at] === id) return at;
    at = config[at + 1] ?? 0;
  }
  return 0;
}

export const PCI_CAP_ID = { PM: CAP_PM, MSI: CAP_MSI, MSIX: CAP_MSIX, EXP: CAP_EXP } as const;
