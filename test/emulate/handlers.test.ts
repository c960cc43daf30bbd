// The described ioctls the emulator has no handler for: they get a
// fallback answer (ENOTTY, EOPNOTSUPP) from whichever object the fd is. The
// list is written out on purpose: an ioctl added to decoders/ with no
// handler makes this fail with its name, and the fix is a handler in the
// object's table or a line here saying why none.

import { describe, expect, it } from 'vitest';
import { registry, type IoctlName } from '../../decoders/index.js';
import { Cdev } from '../../src/emulate/cdev.js';
import { Container } from '../../src/emulate/container.js';
import { Device } from '../../src/emulate/device.js';
import { Group } from '../../src/emulate/group.js';
import { IommufdCtx } from '../../src/emulate/iommufd.js';
import { VFIO_COMPAT_CALLS } from '../../src/emulate/iommufdCompat.js';
import { Spapr } from '../../src/emulate/spapr.js';
import { Type1 } from '../../src/emulate/type1.js';

/** Every table an emulated object answers through. */
const TABLES: readonly ReadonlyMap<string, unknown>[] = [
  Container.calls,
  Type1.calls,
  Spapr.calls,
  Group.calls,
  Device.calls,
  Cdev.calls,
  IommufdCtx.calls,
  VFIO_COMPAT_CALLS,
];

const UNANSWERED: readonly IoctlName[] = [
  // Device fd: mdev graphics planes and ioeventfds, which the emulated
  // vfio-pci function does not offer: the device answers ENOTTY.
  'VFIO_DEVICE_QUERY_GFX_PLANE',
  'VFIO_DEVICE_GET_GFX_DMABUF',
  'VFIO_DEVICE_IOEVENTFD',
  // The migration data fd: no emulated device migrates, so none is handed out.
  'VFIO_MIG_GET_PRECOPY_INFO',
  // iommufd features the emulated IOMMU lacks: EOPNOTSUPP up to the last
  // command the emulated kernel knows (FAULT_QUEUE_ALLOC on 6.12), ENOTTY past it.
  'IOMMU_HWPT_INVALIDATE',
  'IOMMU_FAULT_QUEUE_ALLOC',
  'IOMMU_IOAS_MAP_FILE',
  'IOMMU_VIOMMU_ALLOC',
  'IOMMU_VDEVICE_ALLOC',
  'IOMMU_IOAS_CHANGE_PROCESS',
  'IOMMU_VEVENTQ_ALLOC',
  'IOMMU_HW_QUEUE_ALLOC',
];

describe('emulator handlers', () => {
  it('answers every described ioctl with a handler but the listed ones', () => {
    const names = [...registry().byName.keys()];
    const unanswered = names.filter((n) => !TABLES.some((t) => t.has(n)));
    expect(unanswered.sort()).toEqual([...UNANSWERED].sort());
  });
});
