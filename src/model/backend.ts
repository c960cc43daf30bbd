// Which IOMMU backend a container's DMA calls reach, and what that changes.
// type1 keeps mappings as ranges: a MAP over a live one is refused (EEXIST),
// an UNMAP of nothing unmaps nothing. The sPAPR TCE backend keeps one TCE
// per IOMMU page (drivers/vfio/vfio_iommu_spapr_tce.c): MAP_DMA writes the
// entries whatever they held (tce_iommu_build exchanges them), UNMAP_DMA
// clears every entry of the range and skips the empty ones (tce_iommu_clear).

import type { ContainerState } from './state.js';
import { isSpaprType } from './vfio.js';

/**
 * The IOMMU type that serves the container: the SET_IOMMU the kernel
 * accepted, or else the one the caller asked for (judged on intent when the
 * kernel took none).
 */
export function servingType(c: ContainerState): number | null {
  return c.backend?.type ?? c.iommu?.type ?? null;
}

/** DMA calls on this container set and clear TCEs, page by page. */
export function hasTceSemantics(c: ContainerState): boolean {
  const t = servingType(c);
  return t !== null && isSpaprType(t);
}
