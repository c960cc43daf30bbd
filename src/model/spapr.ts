// The sPAPR TCE state of a container (VFIO_SET_IOMMU 2 = v1, 7 = v2) as
// drivers/vfio/vfio_iommu_spapr_tce.c keeps it: the DMA windows (the
// platform's default 32-bit one, which VFIO_IOMMU_SPAPR_TCE_GET_INFO reports
// as dma32_window_start/size, and those VFIO_IOMMU_SPAPR_TCE_CREATE made)
// and the memory VFIO_IOMMU_SPAPR_REGISTER_MEMORY preregistered. Only calls
// the kernel accepted change it. Fields keep the kernel's names.

import type { DecodedIoctl } from '../decode/types.js';
import { VFIO_IOMMU_SPAPR_INFO_DDW } from '../../decoders/spapr.js';
import { inNumber, inValue, outNumber, outValue } from './fields.js';
import { succeeded } from './outcome.js';
import { ioctlTable, type IoctlTable } from './ioctlName.js';

export interface SpaprInfo {
  seq: number;
  flags: number;
  dma32_window_start: bigint;
  dma32_window_size: bigint;
  /** Present when the kernel set VFIO_IOMMU_SPAPR_INFO_DDW and argsz let it copy the ddw part back. */
  ddw: { pgsizes: bigint; max_dynamic_windows_supported: number; levels: number } | null;
}

export interface SpaprWindow {
  seq: number;
  /** Where the platform put the window (TCE_CREATE's output). */
  start_addr: bigint;
  window_size: bigint;
  page_shift: number;
  levels: number;
}

export interface SpaprMemory {
  seq: number;
  vaddr: bigint;
  size: bigint;
}

export interface SpaprState {
  /** The last successful VFIO_IOMMU_SPAPR_TCE_GET_INFO. */
  info: SpaprInfo | null;
  /** seq of the TCE_REMOVE that took the default 32-bit window away, or null while it stands. */
  defaultRemoved: number | null;
  /** Windows TCE_CREATE made and no TCE_REMOVE took away, oldest first. */
  windows: SpaprWindow[];
  /** Preregistered memory, oldest first. */
  registered: SpaprMemory[];
}

export function newSpaprState(): SpaprState {
  return { info: null, defaultRemoved: null, windows: [], registered: [] };
}

/** What an accepted sPAPR call does to the backend's state. */
type SpaprCall = (ev: DecodedIoctl, s: SpaprState) => void;

/** The sPAPR backend's own container calls (MAP/UNMAP_DMA are the container's, shared with type1). */
export const SPAPR_CALLS: IoctlTable<SpaprCall> = ioctlTable<SpaprCall>({
  VFIO_IOMMU_SPAPR_TCE_GET_INFO: getInfo,
  VFIO_IOMMU_SPAPR_TCE_CREATE: (ev, s) => {
    const start = outValue(ev, 'start_addr');
    const size = inValue(ev, 'window_size');
    if (start === undefined || size === undefined) return;
    s.windows.push({ seq: ev.seq, start_addr: start, window_size: size, page_shift: inNumber(ev, 'page_shift') ?? 0, levels: inNumber(ev, 'levels') ?? 0 });
  },
  VFIO_IOMMU_SPAPR_TCE_REMOVE: (ev, s) => {
    const at = inValue(ev, 'start_addr');
    if (at === undefined) return;
    // The kernel removes the window that holds the address (tce_iommu_find_table).
    const k = s.windows.findIndex((w) => at >= w.start_addr && at < w.start_addr + w.window_size);
    if (k >= 0) s.windows.splice(k, 1);
    else if (s.defaultRemoved === null) s.defaultRemoved = ev.seq;
  },
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY: (ev, s) => {
    const vaddr = inValue(ev, 'vaddr');
    const size = inValue(ev, 'size');
    if (vaddr !== undefined && size !== undefined) s.registered.push({ seq: ev.seq, vaddr, size });
  },
  VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: (ev, s) => {
    // The region registered with this very vaddr and size (mm_iommu_get).
    const vaddr = inValue(ev, 'vaddr');
    const size = inValue(ev, 'size');
    const k = s.registered.findIndex((r) => r.vaddr === vaddr && r.size === size);
    if (k >= 0) s.registered.splice(k, 1);
  },
});

/** Applies one of SPAPR_CALLS to `s`; returns `s`. */
export function onSpapr(ev: DecodedIoctl, name: string, s: SpaprState): SpaprState {
  if (succeeded(ev)) SPAPR_CALLS.get(name)?.(ev, s);
  return s;
}

function getInfo(ev: DecodedIoctl, s: SpaprState): void {
  const start = outValue(ev, 'dma32_window_start');
  const size = outValue(ev, 'dma32_window_size');
  if (start === undefined || size === undefined) return;
  const flags = outNumber(ev, 'flags') ?? 0;
  const pgsizes = flags & VFIO_IOMMU_SPAPR_INFO_DDW ? outValue(ev, 'ddw.pgsizes') : undefined;
  s.info = {
    seq: ev.seq,
    flags,
    dma32_window_start: start,
    dma32_window_size: size,
    ddw: pgsizes === undefined ? null : {
      pgsizes,
      max_dynamic_windows_supported: outNumber(ev, 'ddw.max_dynamic_windows_supported') ?? 0,
      levels: outNumber(ev, 'ddw.levels') ?? 0,
    },
  };
}

// ---- the snapshot's picture -------------------------------------------------

export interface SpaprSnap {
  info: { seq: number; flags: number; dma32_window_start: string; dma32_window_size: string; ddw: { pgsizes: string; max_dynamic_windows_supported: number; levels: number } | null } | null;
  /** seq of the TCE_REMOVE that took the default 32-bit window away. */
  defaultRemoved: number | null;
  /**
   * The windows standing: the default one first (from GET_INFO; its page
   * shift and levels are the platform's, not reported), then TCE_CREATE's.
   */
  windows: Array<{ start_addr: string; window_size: string; page_shift: number | null; levels: number | null; seq: number; default: boolean }>;
  /** The first LISTED regions; registeredCount and registeredBytes count them all. */
  registered: Array<{ vaddr: string; size: string; seq: number }>;
  registeredCount: number;
  registeredBytes: string;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const LISTED = 256;

export function spaprSnap(s: SpaprState): SpaprSnap {
  const i = s.info;
  const windows: SpaprSnap['windows'] = [];
  if (i && s.defaultRemoved === null) {
    windows.push({ start_addr: hex(i.dma32_window_start), window_size: hex(i.dma32_window_size), page_shift: null, levels: null, seq: i.seq, default: true });
  }
  for (const w of s.windows) {
    windows.push({ start_addr: hex(w.start_addr), window_size: hex(w.window_size), page_shift: w.page_shift, levels: w.levels, seq: w.seq, default: false });
  }
  return {
    info: i && {
      seq: i.seq,
      flags: i.flags,
      dma32_window_start: hex(i.dma32_window_start),
      dma32_window_size: hex(i.dma32_window_size),
      ddw: i.ddw && { pgsizes: hex(i.ddw.pgsizes), max_dynamic_windows_supported: i.ddw.max_dynamic_windows_supported, levels: i.ddw.levels },
    },
    defaultRemoved: s.defaultRemoved,
    windows,
    registered: s.registered.slice(0, LISTED).map((r) => ({ vaddr: hex(r.vaddr), size: hex(r.size), seq: r.seq })),
    registeredCount: s.registered.length,
    registeredBytes: hex(s.registered.reduce((n, r) => n + r.size, 0n)),
  };
}
