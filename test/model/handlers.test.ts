// The described ioctls the session model ignores: no table of the model
// (per fd kind) has them, so they change no state. The list is written out
// on purpose: an ioctl added to decoders/ that the model does not follow
// makes this fail with its name, and the fix is a handler or a line here
// saying why none.

import { describe, expect, it } from 'vitest';
import { registry, type IoctlName } from '../../decoders/index.js';
import { CONTAINER_CALLS, GROUP_CALLS } from '../../src/model/containerCalls.js';
import { DEVICE_CALLS, IOMMUFD_CALLS } from '../../src/model/deviceCalls.js';
import { SPAPR_CALLS } from '../../src/model/spapr.js';

/** Every table SessionModel.commit dispatches through. */
const TABLES: readonly ReadonlyMap<string, unknown>[] = [CONTAINER_CALLS, SPAPR_CALLS, GROUP_CALLS, DEVICE_CALLS, IOMMUFD_CALLS];

const IGNORED: readonly IoctlName[] = [
  // Answers the model keeps nothing of: a constant, and the group's flags
  // (the model keeps the container link SET_CONTAINER made).
  'VFIO_GET_API_VERSION',
  'VFIO_GROUP_GET_STATUS',
  // Dirty-page tracking, resets and migration sizes are not modelled.
  'VFIO_IOMMU_DIRTY_PAGES',
  'VFIO_DEVICE_RESET',
  'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  'VFIO_DEVICE_PCI_HOT_RESET',
  'VFIO_MIG_GET_PRECOPY_INFO',
  // Device calls outside what the model keeps of a device (info, regions, IRQs, binding).
  'VFIO_DEVICE_QUERY_GFX_PLANE',
  'VFIO_DEVICE_GET_GFX_DMABUF',
  'VFIO_DEVICE_IOEVENTFD',
  // iommufd: the model keeps IOAS ids, their alignment and mappings, not
  // allowed ranges, options, HWPTs or the objects of nested translation.
  'IOMMU_IOAS_ALLOW_IOVAS',
  'IOMMU_IOAS_COPY',
  'IOMMU_OPTION',
  'IOMMU_VFIO_IOAS',
  'IOMMU_HWPT_ALLOC',
  'IOMMU_GET_HW_INFO',
  'IOMMU_HWPT_SET_DIRTY_TRACKING',
  'IOMMU_HWPT_GET_DIRTY_BITMAP',
  'IOMMU_HWPT_INVALIDATE',
  'IOMMU_FAULT_QUEUE_ALLOC',
  'IOMMU_VIOMMU_ALLOC',
  'IOMMU_VDEVICE_ALLOC',
  'IOMMU_IOAS_CHANGE_PROCESS',
  'IOMMU_VEVENTQ_ALLOC',
  'IOMMU_HW_QUEUE_ALLOC',
];

describe('session model handlers', () => {
  it('follows every described ioctl but the listed ones', () => {
    const names = [...registry().byName.keys()];
    const ignored = names.filter((n) => !TABLES.some((t) => t.has(n)));
    expect(ignored.sort()).toEqual([...IGNORED].sort());
  });
});
