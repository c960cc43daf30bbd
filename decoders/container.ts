// Container fd (/dev/vfio/vfio) ioctls that exist before and regardless of
// the IOMMU backend. iommufd's VFIO compatibility layer serves them too.

import { enumOf, ioctl, vfio, type Family, type Display } from '../src/decode/dsl.js';

export const EXTENSIONS = [
  ['VFIO_TYPE1_IOMMU', 1],
  ['VFIO_SPAPR_TCE_IOMMU', 2],
  ['VFIO_TYPE1v2_IOMMU', 3],
  ['VFIO_DMA_CC_IOMMU', 4],
  ['VFIO_EEH', 5],
  ['VFIO_TYPE1_NESTING_IOMMU', 6],
  ['VFIO_SPAPR_TCE_v2_IOMMU', 7],
  ['VFIO_NOIOMMU_IOMMU', 8],
  ['VFIO_UNMAP_ALL', 9],
  ['VFIO_UPDATE_VADDR', 10],
] as const;

const extDisplay: Display = enumOf(EXTENSIONS);
const extName = (n: number): string => EXTENSIONS.find(([, v]) => v === n)?.[0] ?? `extension ${n}`;

const F = 'container';

export const container: Family = {
  name: F,
  structs: [],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_GET_API_VERSION',
      nr: vfio(0),
      fdKinds: ['container', 'iommufd'],
      arg: { kind: 'none' },
      ret: (r) => ({ meaning: r === 0 ? 'VFIO_API_VERSION (0)' : `API version ${r} (this decoder knows 0)` }),
    }),
    ioctl(F, {
      name: 'VFIO_CHECK_EXTENSION',
      nr: vfio(1),
      fdKinds: ['container', 'iommufd'],
      arg: { kind: 'int', display: extDisplay },
      // Before SET_IOMMU every backend is polled; after it only the chosen one answers.
      ret: (r, c) => ({ meaning: `${extName(c.arg)} ${r === 0 ? 'not supported' : r === 1 ? 'supported' : `answered ${r}`}` }),
      errnos: { EINVAL: 'iommufd compat: DMA_CC asked without a compat IOAS' },
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
};
