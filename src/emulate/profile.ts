// Device profiles: what the emulated machine has (IOMMU backend, EEH, and one
// PCI function). Built-ins live in profiles/; users pass a JSON file of the
// same shape (docs/emulation.md). Validation errors name the offending field.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type IommuBackend = 'type1' | 'spapr';

/** The kernel releases whose answers the emulator can give where they differ
 * (docs/realkernel.md lists each difference). */
export const KERNEL_VERSIONS = ['6.1', '6.12'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];
export const DEFAULT_KERNEL: KernelVersion = '6.12';

export function checkKernel(v: string): KernelVersion {
  const k = KERNEL_VERSIONS.find((x) => x === v);
  if (!k) throw new Error(`unknown kernel "${v}" (known: ${KERNEL_VERSIONS.join(', ')})`);
  return k;
}
export type BarKind = 'mem32' | 'mem64' | 'io';

export interface BarSpec {
  /** BAR index 0-5 (a mem64 BAR also occupies index + 1). */
  index: number;
  size: number;
  kind: BarKind;
  prefetchable: boolean;
  /** Whether the region may be mmapped (vfio-pci never allows it for I/O BARs). */
  mmap: boolean;
}

export interface MsixSpec {
  vectors: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export interface PciSpec {
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystem: number;
  /** 24-bit class code: base class, subclass, prog-if. */
  classCode: number;
  revision: number;
  bars: BarSpec[];
  msix: MsixSpec | null;
  /** MSI vectors of the MSI capability (0: no MSI capability). */
  msi: number;
  /** Expansion ROM size in bytes (0: none). */
  rom: number;
  /** Legacy INTx pin A wired. */
  intx: boolean;
  /** PCI Express capability (4 KiB config space, ERR IRQ) with FLR. */
  pcie: boolean;
  /** VFIO_DEVICE_FLAGS_RESET: DEVICE_RESET works. */
  reset: boolean;
  /** Whether PCI_HOT_RESET's bus/slot reset itself succeeds once every check
   * passed (false: ENOTTY, as for QEMU's e1000e behind a pcie-root-port). */
  hotResetWorks: boolean;
  /** Optional raw config space (a dump of /sys/bus/pci/devices/ADDR/config). Overrides the generated one. */
  config: Uint8Array | null;
}

export interface Profile {
  name: string;
  description: string;
  iommu: IommuBackend;
  /** CHECK_EXTENSION(VFIO_EEH) = 1 and VFIO_EEH_PE_OP served (sPAPR only). */
  eeh: boolean;
  /** type1: the IOMMU's input address width; the IOVA ranges end at 2^bits - 1. */
  iovaBits: number;
  /** Whose answers to give where kernel releases differ. */
  kernel: KernelVersion;
  /** PCI address, e.g. 0000:01:00.0. */
  address: string;
  group: number;
  pci: PciSpec;
}

const ADDRESS_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

export function checkAddress(address: string): string {
  const a = address.toLowerCase();
  if (!ADDRESS_RE.test(a)) throw new Error(`bad PCI address "${address}" (want DDDD:BB:DD.F, e.g. 0000:01:00.0)`);
  return a;
}

/** Bus, devfn of an address (for hot-reset info). */
export function splitAddress(address: string): { segment: number; bus: number; devfn: number } {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(address);
  if (!m) throw new Error(`bad PCI address "${address}"`);
  return { segment: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), devfn: (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 10) };
}

type Json = Record<string, unknown>;

function num(o: Json, key: string, where: string, dflt?: number): number {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${where}.${key}: want a non-negative integer (or "0x…" string), got ${JSON.stringify(v)}`);
  return n;
}

function bool(o: Json, key: string, where: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${where}.${key}: want true or false`);
  return v;
}

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: want an object`);
  return v as Json;
}

function isPow2(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

function parseBar(v: unknown, where: string): BarSpec {
  const o = obj(v, where);
  const kind = o['kind'] ?? 'mem32';
  if (kind !== 'mem32' && kind !== 'mem64' && kind !== 'io') throw new Error(`${where}.kind: want mem32, mem64 or io`);
  const index = num(o, 'index', where);
  const size = num(o, 'size', where);
  if (index > 5 || (kind === 'mem64' && index > 4)) throw new Error(`${where}.index: out of range for a ${kind} BAR`);
  if (!isPow2(size) || size < (kind === 'io' ? 4 : 16)) throw new Error(`${where}.size: a BAR size is a power of two (io ≥ 4, memory ≥ 16)`);
  return { index, size, kind, prefetchable: bool(o, 'prefetchable', where, false), mmap: kind !== 'io' && bool(o, 'mmap', where, true) };
}

function parseHex(text: string, where: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`${where}: want hex bytes`);
  const out = Buffer.from(clean, 'hex');
  if (out.length !== 256 && out.length !== 4096) throw new Error(`${where}: a config space dump is 256 or 4096 bytes, got ${out.length}`);
  return new Uint8Array(out);
}

/** Validates a parsed JSON profile. `baseDir` resolves a relative configFile. */
export function profileFromJson(v: unknown, baseDir = '.'): Profile {
  const o = obj(v, 'profile');
  const iommu = o['iommu'];
  if (iommu !== 'type1' && iommu !== 'spapr') throw new Error('profile.iommu: want "type1" or "spapr"');
  const eeh = bool(o, 'eeh', 'profile', iommu === 'spapr');
  if (eeh && iommu !== 'spapr') throw new Error('profile.eeh: EEH exists only with the sPAPR backend');
  const p = obj(o['pci'], 'profile.pci');
  const bars = Array.isArray(p['bars']) ? p['bars'].map((b, i) => parseBar(b, `profile.pci.bars[${i}]`)) : [];
  const used = new Set<number>();
  for (const b of bars) {
    for (const i of b.kind === 'mem64' ? [b.index, b.index + 1] : [b.index]) {
      if (used.has(i)) throw new Error(`profile.pci.bars: BAR ${i} given twice`);
      used.add(i);
    }
  }
  let msix: MsixSpec | null = null;
  if (p['msix'] !== undefined && p['msix'] !== null) {
    const m = obj(p['msix'], 'profile.pci.msix');
    msix = {
      vectors: num(m, 'vectors', 'profile.pci.msix'),
      tableBar: num(m, 'tableBar', 'profile.pci.msix'),
      tableOffset: num(m, 'tableOffset', 'profile.pci.msix'),
      pbaBar: num(m, 'pbaBar', 'profile.pci.msix'),
      pbaOffset: num(m, 'pbaOffset', 'profile.pci.msix'),
    };
    if (msix.vectors < 1 || msix.vectors > 2048) throw new Error('profile.pci.msix.vectors: 1-2048');
    for (const [bar, off, len, what] of [
      [msix.tableBar, msix.tableOffset, msix.vectors * 16, 'table'],
      [msix.pbaBar, msix.pbaOffset, Math.ceil(msix.vectors / 64) * 8, 'pba'],
    ] as const) {
      const b = bars.find((x) => x.index === bar && x.kind !== 'io');
      if (!b || off + len > b.size) throw new Error(`profile.pci.msix: the ${what} does not fit in memory BAR ${bar}`);
    }
  }
  let config: Uint8Array | null = null;
  if (typeof p['config'] === 'string') config = parseHex(p['config'], 'profile.pci.config');
  else if (typeof p['configFile'] === 'string') {
    const file = resolve(baseDir, p['configFile']);
    const raw = readFileSync(file);
    config = raw.length === 256 || raw.length === 4096 ? new Uint8Array(raw) : parseHex(raw.toString('utf8'), file);
  }
  const pcie = bool(p, 'pcie', 'profile.pci', config ? config.length === 4096 : true);
  const pci: PciSpec = {
    vendor: num(p, 'vendor', 'profile.pci', config ? config[0]! | (config[1]! << 8) : undefined),
    device: num(p, 'device', 'profile.pci', config ? config[2]! | (config[3]! << 8) : undefined),
    subsystemVendor: num(p, 'subsystemVendor', 'profile.pci', 0),
    subsystem: num(p, 'subsystem', 'profile.pci', 0),
    classCode: num(p, 'classCode', 'profile.pci', 0xff0000),
    revision: num(p, 'revision', 'profile.pci', 0),
    bars,
    msix,
    msi: num(p, 'msi', 'profile.pci', 0),
    rom: num(p, 'rom', 'profile.pci', 0),
    intx: bool(p, 'intx', 'profile.pci', true),
    pcie,
    reset: bool(p, 'reset', 'profile.pci', true),
    hotResetWorks: bool(p, 'hotResetWorks', 'profile.pci', true),
    config,
  };
  if (pci.vendor > 0xffff || pci.device > 0xffff) throw new Error('profile.pci: vendor and device are 16-bit');
  if (![0, 1, 2, 4, 8, 16, 32].includes(pci.msi)) throw new Error('profile.pci.msi: MSI vectors are 0 (none), 1, 2, 4, 8, 16 or 32');
  if (pci.rom !== 0 && (!isPow2(pci.rom) || pci.rom < 2048)) throw new Error('profile.pci.rom: a ROM size is 0 or a power of two ≥ 2048');
  const iovaBits = num(o, 'iovaBits', 'profile', 48);
  if (iovaBits < 32 || iovaBits > 64) throw new Error('profile.iovaBits: 32-64');
  const name = typeof o['name'] === 'string' ? o['name'] : 'custom';
  return {
    name,
    description: typeof o['description'] === 'string' ? o['description'] : '',
    iommu,
    eeh,
    iovaBits,
    kernel: typeof o['kernel'] === 'string' ? checkKernel(o['kernel']) : DEFAULT_KERNEL,
    address: checkAddress(typeof o['address'] === 'string' ? o['address'] : '0000:01:00.0'),
    group: num(o, 'group', 'profile', 42),
    pci,
  };
}

export function loadProfileFile(path: string): Profile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`profile ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return profileFromJson(parsed, dirname(path));
}
