// A real client's EEH session, call by call: QEMU's pseries machine with a
// vfio-pci device on an sPAPR TCE v2 container, and a Linux guest that
// detects a frozen PE and runs its recovery (arch/powerpc/kernel/eeh_driver.c
// eeh_handle_normal_event) through RTAS, which QEMU turns into
// VFIO_EEH_PE_OP (hw/ppc/spapr_pci_vfio.c): ibm,set-eeh-option → ENABLE /
// UNFREEZE_IO / UNFREEZE_DMA, ibm,read-slot-reset-state2 → GET_STATE,
// ibm,set-slot-reset 1/3/0 → RESET_HOT / RESET_FUNDAMENTAL / RESET_DEACTIVATE,
// ibm,configure-pe → CONFIGURE. The kernel answers as a host with EEH would.

import {
  VFIO_EEH_PE_CONFIGURE as CONFIGURE, VFIO_EEH_PE_ENABLE as ENABLE, VFIO_EEH_PE_GET_STATE as GET_STATE,
  VFIO_EEH_PE_RESET_DEACTIVATE as DEACTIVATE, VFIO_EEH_PE_RESET_HOT as RESET_HOT, VFIO_EEH_PE_STATE_NORMAL as NORMAL,
  VFIO_EEH_PE_STATE_STOPPED as STOPPED, VFIO_EEH_PE_STATE_STOPPED_DMA as STOPPED_DMA, VFIO_EEH_PE_UNFREEZE_IO as UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { Sim } from '../model/sim.js';
import { C, D, G, eeh, getDevice } from './scenarios.js';

/** QEMU's default 32-bit DMA window: 1 GiB of 4 KiB TCEs, 262,144 entries (tests scale it down). */
export const WINDOW_PAGES = 0x40000000 / 0x1000;
const TCE_PAGE = 0x1000n;
const RAM = 0x7f0000000000n;
const EIO = -5;

/**
 * vfio_connect_container on a POWER host: vfio_get_iommu_type asks for
 * TYPE1v2, TYPE1 and sPAPR TCE v2 in turn and takes the first the host has;
 * the v2 container drops the kernel's default window and creates its own
 * when the guest's IOMMU region appears. No CHECK_EXTENSION(VFIO_EEH): QEMU
 * 7.2 never asks.
 */
export function pseriesSetup(s = new Sim()): Sim {
  s.fd(C, '/dev/vfio/vfio', 'container').fd(G, '/dev/vfio/1', 'group');
  s.call(C, 'VFIO_GET_API_VERSION', { ret: 0 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 3, ret: 0 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 1, ret: 0 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 7, ret: 1 });
  s.call(G, 'VFIO_GROUP_GET_STATUS', { in: { argsz: 8, flags: 0 }, out: { argsz: 8, flags: 1 } });
  s.call(G, 'VFIO_GROUP_SET_CONTAINER', { in: C });
  s.call(C, 'VFIO_SET_IOMMU', { arg: 7 });
  s.call(C, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', {
    in: { argsz: 48, flags: 0 },
    out: { argsz: 48, flags: 1, dma32_window_start: 0, dma32_window_size: 0x40000000 },
  });
  s.call(C, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: 0 } });
  s.call(C, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: RAM, size: 0x80000000 } });
  s.call(C, 'VFIO_IOMMU_SPAPR_TCE_CREATE', {
    in: { argsz: 40, flags: 0, page_shift: 12, __resv1: 0, window_size: 0x40000000, levels: 1, __resv2: 0, start_addr: 0 },
    out: { argsz: 40, flags: 0, page_shift: 12, __resv1: 0, window_size: 0x40000000, levels: 1, __resv2: 0, start_addr: 0 },
  });
  getDevice(s);
  return s;
}

/**
 * Machine reset and guest boot: QEMU's PHB reset re-enables EEH on the PE
 * (spapr_phb_vfio_reset); the guest clears its whole DMA window with
 * H_STUFF_TCE, which QEMU mirrors one TCE at a time (put_tce_emu → the vfio
 * IOMMU notifier → VFIO_IOMMU_UNMAP_DMA of one page); the guest's EEH probe
 * enables EEH and reads the state; a driver maps and unmaps a few TCEs.
 */
export function pseriesBoot(s: Sim, windowPages: number): Sim {
  eeh(s, ENABLE);
  for (let i = 0n; i < BigInt(windowPages); i++) unmapTce(s, i * TCE_PAGE);
  eeh(s, ENABLE);
  eeh(s, GET_STATE, NORMAL);
  for (const i of [0n, 1n, 2n]) mapTce(s, i * TCE_PAGE, RAM + 0x100000n + i * TCE_PAGE);
  unmapTce(s, TCE_PAGE);
  return s;
}

function mapTce(s: Sim, iova: bigint, vaddr: bigint): void {
  s.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr, iova, size: TCE_PAGE } });
}

function unmapTce(s: Sim, iova: bigint): void {
  // The sPAPR backend does not write the struct back.
  s.call(C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova, size: TCE_PAGE } });
}

/** eeh_dev_check_failure after an all-ones config read, then eeh_handle_normal_event's wait_state. */
function detect(s: Sim): void {
  eeh(s, GET_STATE, STOPPED);
  eeh(s, GET_STATE, STOPPED);
}

/** eeh_pci_enable(THAW_MMIO): GET_STATE, the thaw if not active, GET_STATE until settled. */
function thawMmio(s: Sim, after: number): void {
  eeh(s, GET_STATE, STOPPED);
  eeh(s, UNFREEZE_IO);
  eeh(s, GET_STATE, after);
}

/** eeh_slot_error_detail: thaw MMIO for the log, configure_bridge, (get_log: no VFIO call). */
function errorDetail(s: Sim, after: number): void {
  thawMmio(s, after);
  eeh(s, CONFIGURE);
}

/** The recovery that works: log, eeh_reset_device (reset, deactivate, wait, configure, unfreeze check). */
export function pseriesRecovery(s: Sim): Sim {
  detect(s);
  errorDetail(s, STOPPED_DMA);
  eeh(s, RESET_HOT);
  eeh(s, DEACTIVATE);
  eeh(s, GET_STATE, NORMAL);
  eeh(s, CONFIGURE);
  // eeh_clear_pe_frozen_state: both thaws find the PE active and are skipped.
  eeh(s, GET_STATE, NORMAL);
  eeh(s, GET_STATE, NORMAL);
  // The driver probes again after the hotplug: MSI-X back on.
  s.call(D, 'VFIO_DEVICE_SET_IRQS', { in: { argsz: 24, flags: 0x24, index: 2, start: 0, count: 1, data: [12] } });
  return s;
}

/**
 * The PE never thaws: three resets leave it stopped, eeh_clear_pe_frozen_state
 * fails three times, eeh_handle_normal_event gives up ("Unable to recover")
 * and collects the permanent log (eeh_slot_error_detail with EEH_LOG_PERM).
 */
export function pseriesPermanentFailure(s: Sim): Sim {
  detect(s);
  errorDetail(s, STOPPED);
  for (let i = 0; i < 3; i++) {
    eeh(s, RESET_HOT);
    eeh(s, DEACTIVATE);
    eeh(s, GET_STATE, STOPPED);
  }
  eeh(s, CONFIGURE);
  for (let i = 0; i < 3; i++) thawMmio(s, STOPPED);
  errorDetail(s, STOPPED);
  return s;
}

/**
 * The host refuses the reset: eeh_pe_reset_full does not deactivate a reset
 * that failed to assert, tries three times, and the guest gives up with the
 * permanent log.
 */
export function pseriesRefusedReset(s: Sim): Sim {
  detect(s);
  errorDetail(s, STOPPED_DMA);
  for (let i = 0; i < 3; i++) eeh(s, RESET_HOT, EIO);
  errorDetail(s, STOPPED_DMA);
  return s;
}

/** A whole session: setup, boot (with `windowPages` TCE unmaps), one EEH episode, exit. */
export function pseriesSession(episode: (s: Sim) => Sim, windowPages = 256): Sim {
  const s = episode(pseriesBoot(pseriesSetup(), windowPages));
  s.exit();
  return s;
}
