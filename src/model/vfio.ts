// Questions the session model and the audit ask about uapi values (is this
// IOMMU type sPAPR? what is this EEH op called?). The values themselves are
// the decoders' (decoders/container.ts, decoders/eeh.ts).

import {
  IOMMU_TYPES, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU,
} from '../../decoders/container.js';
import { EEH_OPS, EEH_STATES } from '../../decoders/eeh.js';

export const IOMMU_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(IOMMU_TYPES.map(([n, v]) => [v, n]));

export function isSpaprType(t: number): boolean {
  return t === VFIO_SPAPR_TCE_IOMMU || t === VFIO_SPAPR_TCE_v2_IOMMU;
}
export function isType1Type(t: number): boolean {
  return t === VFIO_TYPE1_IOMMU || t === VFIO_TYPE1v2_IOMMU;
}

/** Op names indexed by value (the ops run 0–9 without gaps). */
export const EEH_OP_NAMES: readonly string[] = EEH_OPS.map(([n]) => n);

export function eehOpName(op: number): string {
  return EEH_OP_NAMES[op] ?? `op ${op}`;
}

export type EehStateName = 'NORMAL' | 'RESET' | 'STOPPED' | 'STOPPED_DMA' | 'UNAVAIL' | 'UNKNOWN';

// Built once: GET_STATE is the most frequent EEH op (a poll), so naming its
// answer must not search and slice strings per call.
const EEH_STATE_NAMES: ReadonlyMap<number, EehStateName> = new Map(
  EEH_STATES.map(([name, v]) => [v, name.slice('VFIO_EEH_PE_STATE_'.length) as EehStateName]),
);

/** GET_STATE's answer without the VFIO_EEH_PE_STATE_ prefix. */
export function eehStateName(v: number): EehStateName {
  return EEH_STATE_NAMES.get(v) ?? 'UNKNOWN';
}
