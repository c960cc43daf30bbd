// The few uapi values the session model and the audit reason about (enum
// values and flag bits, not layouts: those live in decoders/). Names are the
// kernel's; test/model/constants.test.ts checks every value against the
// system's <linux/vfio.h>.

export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_EEH = 5;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;

export const IOMMU_TYPE_NAMES: Readonly<Record<number, string>> = {
  [VFIO_TYPE1_IOMMU]: 'VFIO_TYPE1_IOMMU',
  [VFIO_SPAPR_TCE_IOMMU]: 'VFIO_SPAPR_TCE_IOMMU',
  [VFIO_TYPE1v2_IOMMU]: 'VFIO_TYPE1v2_IOMMU',
  [VFIO_SPAPR_TCE_v2_IOMMU]: 'VFIO_SPAPR_TCE_v2_IOMMU',
  [VFIO_NOIOMMU_IOMMU]: 'VFIO_NOIOMMU_IOMMU',
};

export function isSpaprType(t: number): boolean {
  return t === VFIO_SPAPR_TCE_IOMMU || t === VFIO_SPAPR_TCE_v2_IOMMU;
}
export function isType1Type(t: number): boolean {
  return t === VFIO_TYPE1_IOMMU || t === VFIO_TYPE1v2_IOMMU;
}

export const VFIO_IOMMU_INFO_PGSIZES = 1;
export const VFIO_IOMMU_INFO_CAPS = 2;
export const VFIO_DEVICE_FLAGS_CAPS = 0x80;
export const VFIO_REGION_INFO_FLAG_CAPS = 0x8;

export const VFIO_DMA_UNMAP_FLAG_ALL = 2;

export const VFIO_IRQ_INFO_EVENTFD = 1;
export const VFIO_IRQ_SET_DATA_NONE = 1;
export const VFIO_IRQ_SET_DATA_BOOL = 2;
export const VFIO_IRQ_SET_DATA_EVENTFD = 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 0x20;

export const VFIO_EEH_PE_DISABLE = 0;
export const VFIO_EEH_PE_ENABLE = 1;
export const VFIO_EEH_PE_UNFREEZE_IO = 2;
export const VFIO_EEH_PE_UNFREEZE_DMA = 3;
export const VFIO_EEH_PE_GET_STATE = 4;
export const VFIO_EEH_PE_RESET_DEACTIVATE = 5;
export const VFIO_EEH_PE_RESET_HOT = 6;
export const VFIO_EEH_PE_RESET_FUNDAMENTAL = 7;
export const VFIO_EEH_PE_CONFIGURE = 8;
export const VFIO_EEH_PE_INJECT_ERR = 9;

export const EEH_OP_NAMES: readonly string[] = [
  'VFIO_EEH_PE_DISABLE',
  'VFIO_EEH_PE_ENABLE',
  'VFIO_EEH_PE_UNFREEZE_IO',
  'VFIO_EEH_PE_UNFREEZE_DMA',
  'VFIO_EEH_PE_GET_STATE',
  'VFIO_EEH_PE_RESET_DEACTIVATE',
  'VFIO_EEH_PE_RESET_HOT',
  'VFIO_EEH_PE_RESET_FUNDAMENTAL',
  'VFIO_EEH_PE_CONFIGURE',
  'VFIO_EEH_PE_INJECT_ERR',
];

export function eehOpName(op: number): string {
  return EEH_OP_NAMES[op] ?? `op ${op}`;
}

export const VFIO_EEH_PE_STATE_NORMAL = 0;
export const VFIO_EEH_PE_STATE_RESET = 1;
export const VFIO_EEH_PE_STATE_STOPPED = 2;
export const VFIO_EEH_PE_STATE_STOPPED_DMA = 4;
export const VFIO_EEH_PE_STATE_UNAVAIL = 5;

export function eehStateName(v: number): 'NORMAL' | 'RESET' | 'STOPPED' | 'STOPPED_DMA' | 'UNAVAIL' | 'UNKNOWN' {
  switch (v) {
    case VFIO_EEH_PE_STATE_NORMAL:
      return 'NORMAL';
    case VFIO_EEH_PE_STATE_RESET:
      return 'RESET';
    case VFIO_EEH_PE_STATE_STOPPED:
      return 'STOPPED';
    case VFIO_EEH_PE_STATE_STOPPED_DMA:
      return 'STOPPED_DMA';
    case VFIO_EEH_PE_STATE_UNAVAIL:
      return 'UNAVAIL';
    default:
      return 'UNKNOWN';
  }
}

/** iommufd IOAS_MAP flags. */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1;
