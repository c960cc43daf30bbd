// Container fd (/dev/vfio/vfio) ioctls that exist before and regardless of
// the IOMMU backend. iommufd's VFIO compatibility layer serves them too.

import { enumOf, type Display } from '../src/decode/dsl.js';
import { ioctl, vfio, family } from '../src/decode/ioctlDesc.js';
import { named } from './common.js';

export const VFIO_API_VERSION = 0;

// Extensions (CHECK_EXTENSION); 1, 2, 3, 7 and 8 are also SET_IOMMU types.
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_EEH = 5;
export const VFIO_TYPE1_NESTING_IOMMU = 6;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

export const EXTENSIONS = named({
  VFIO_TYPE1_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_DMA_CC_IOMMU, VFIO_EEH,
  VFIO_TYPE1_NESTING_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_NOIOMMU_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR,
});

/** The values VFIO_SET_IOMMU accepts. */
export const IOMMU_TYPES = named({ VFIO_TYPE1_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_NOIOMMU_IOMMU });

const extDisplay: Display = enumOf(EXTENSIONS);
const extName = (n: number): string => EXTENSIONS.find(([, v]) => v === n)?.[0] ?? `extension ${n}`;

const F = 'container';

export const container = family({
  name: F,
  structs: [],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_GET_API_VERSION',
      nr: vfio(0),
      fdKinds: ['container', 'iommufd'],
      arg: { kind: 'none' },
      ret: (r) => ({ meaning: r === VFIO_API_VERSION ? 'VFIO_API_VERSION (0)' : `API version ${r} (this decoder knows 0)` }),
    }),
    ioctl(F, {
      name: 'VFIO_CHECK_EXTENSION',
      nr: vfio(1),
      fdKinds: ['container', 'iommufd'],
      arg: { kind: 'int', display: extDisplay },
      // Before SET_IOMMU every backend is polled; after it only the chosen one answers.
      ret: (r, c) => ({ meaning: `${extName(c.arg)} ${r === 0 ? 'not supported' : r === 1 ? 'supported' : `answered ${r}`}` }),
      errnos: { ENODEV: 'iommufd compat: DMA_CC asked of an iommufd no group was set to (no compat IOAS)' },
    }),
    ioctl(F, {
      name: 'VFIO_SET_IOMMU',
      nr: vfio(2),
      fdKinds: ['container', 'iommufd'],
      arg: { kind: 'int', display: extDisplay },
      errnos: {
        EINVAL: 'no group attached to the container, or an IOMMU type is already set',
        ENODEV: 'no IOMMU backend accepts this type',
        EPERM: 'noiommu needs CAP_SYS_RAWIO',
      },
    }),
  ],
});
