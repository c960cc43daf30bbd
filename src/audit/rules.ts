// Every sequence rule the audit knows, with the kernel behaviour behind it.
// docs/audit-rules.md repeats these explanations (a test keeps them in step).

import type { RuleInfo } from './types.js';

const rule = (r: RuleInfo): RuleInfo => r;

export const GET_DEVICE_FD_WITHOUT_CONTAINER = rule({
  id: 'get-device-fd-without-container',
  severity: 'error',
  title: 'VFIO_GROUP_GET_DEVICE_FD on a group that was never given a container',
  explanation:
    'A group only hands out device fds once it is attached to an IOMMU context: VFIO_GROUP_SET_CONTAINER with a ' +
    'container (or an iommufd). Without it the kernel refuses VFIO_GROUP_GET_DEVICE_FD with EINVAL, because nothing ' +
    'would isolate the device\'s DMA. The caller issued the call without ever attempting VFIO_GROUP_SET_CONTAINER ' +
    'on that group fd.',
});

export const GET_DEVICE_FD_BEFORE_SET_IOMMU = rule({
  id: 'get-device-fd-before-set-iommu',
  severity: 'error',
  title: 'VFIO_GROUP_GET_DEVICE_FD before VFIO_SET_IOMMU on the group\'s container',
  explanation:
    'Attaching a group to a container is not enough: the container has no IOMMU backend until VFIO_SET_IOMMU picks ' +
    'one (type1, sPAPR TCE, noiommu). Opening a device through a group whose container has no backend fails with ' +
    'EINVAL. The caller asked for the device before issuing any VFIO_SET_IOMMU on that container.',
});

export const IOMMU_IOCTL_BEFORE_SET_IOMMU = rule({
  id: 'iommu-ioctl-before-set-iommu',
  severity: 'error',
  title: 'IOMMU ioctl on a container before VFIO_SET_IOMMU',
  explanation:
    'A container without a backend answers only VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU ' +
    'itself; every other command (GET_INFO, MAP_DMA, UNMAP_DMA, the sPAPR and EEH commands) has nobody to go to and ' +
    'the kernel returns EINVAL (not ENOTTY). The caller issued such a command before any VFIO_SET_IOMMU on the ' +
    'container.',
});

export const SET_IOMMU_WITHOUT_GROUP = rule({
  id: 'set-iommu-without-group',
  severity: 'error',
  title: 'VFIO_SET_IOMMU on a container with no group attached',
  explanation:
    'The kernel chooses and opens a backend against the groups already in the container, so VFIO_SET_IOMMU on an ' +
    'empty container fails with EINVAL. The caller must first attach at least one group with ' +
    'VFIO_GROUP_SET_CONTAINER; here none was ever attempted on this container.',
});

export const SET_IOMMU_REPEATED = rule({
  id: 'set-iommu-repeated',
  severity: 'error',
  title: 'VFIO_SET_IOMMU issued again on the same container',
  explanation:
    'A container takes its backend once; while it has one, another VFIO_SET_IOMMU fails with EINVAL and the first ' +
    'choice stays. Reported as an error when the earlier call succeeded. When the earlier call failed, the kernel ' +
    'set nothing and considers the new call afresh (QEMU falls back from sPAPR TCE v2 to v1 this way), so the ' +
    'finding is downgraded to info and says which failed call it rests on.',
});

export const SET_IOMMU_AFTER_CHECK_SAID_NO = rule({
  id: 'set-iommu-after-check-said-no',
  severity: 'warning',
  title: 'VFIO_SET_IOMMU with a type VFIO_CHECK_EXTENSION just said the host lacks',
  explanation:
    'On a container with no backend, VFIO_CHECK_EXTENSION with an IOMMU type asks every registered backend and ' +
    'answers 0 when none serves it (vfio_container_ioctl_check_extension); VFIO_SET_IOMMU opens only a backend ' +
    'whose own CHECK_EXTENSION for the type is positive (vfio_ioctl_set_iommu) and fails with ENODEV otherwise. ' +
    'QEMU\'s vfio_get_iommu_type asks for each type in turn and sets the first one answered 1. The caller asked, ' +
    'got 0, and set that type anyway: it ignored the answer. Only answers given while the container had no backend ' +
    'count (with a backend, the question goes to that backend alone).',
});

export const DEVICE_IOCTL_BEFORE_BIND = rule({
  id: 'device-ioctl-before-bind',
  severity: 'error',
  title: 'ioctl on a VFIO device cdev before VFIO_DEVICE_BIND_IOMMUFD',
  explanation:
    'A device opened through /dev/vfio/devices/vfioN is inert until VFIO_DEVICE_BIND_IOMMUFD ties it to an iommufd: ' +
    'the kernel answers every other ioctl on that fd with EINVAL. The caller issued a device ioctl before attempting ' +
    'the bind.',
});

export const DMA_MAP_OVERLAP = rule({
  id: 'dma-map-overlap',
  severity: 'error',
  title: 'DMA map overlapping a live mapping',
  explanation:
    'IOVA space is exclusive: type1 refuses VFIO_IOMMU_MAP_DMA over any part of an existing mapping with EEXIST ' +
    '(vfio_dma_do_map finds the overlap with vfio_find_dma), and iommufd refuses IOMMU_IOAS_MAP with ' +
    'IOMMU_IOAS_MAP_FIXED_IOVA over an existing area the same way. The caller must unmap first. Only mappings the ' +
    'kernel accepted count as live. Not checked on sPAPR TCE containers: there MAP_DMA writes one TCE per IOMMU ' +
    'page whatever it held (tce_iommu_build exchanges the entry), so overwriting a live TCE is how the backend works.',
});

export const DMA_UNMAP_UNMAPPED = rule({
  id: 'dma-unmap-unmapped',
  severity: 'warning',
  title: 'DMA unmap of a range with no live mapping',
  explanation:
    'VFIO_IOMMU_UNMAP_DMA over a range that holds no mapping succeeds on type1 but unmaps nothing and reports ' +
    'size 0 (vfio_dma_do_unmap), so a caller that does not check the returned size believes memory was released ' +
    'from the device\'s reach; iommufd\'s IOMMU_IOAS_UNMAP answers ENOENT. This usually means a double unmap or a ' +
    'wrong IOVA. When a MAP over the range was attempted but failed, the finding says so. Not checked on sPAPR TCE ' +
    'containers: there UNMAP_DMA clears every TCE of the range and skips the empty ones (tce_iommu_clear), and ' +
    'QEMU\'s pseries machine clears TCEs one page at a time, mapped or not, whenever the guest does (H_STUFF_TCE ' +
    'over the whole DMA window at boot and reset, put_tce_emu notifying vfio_iommu_map_notify for each page).',
});

export const DMA_UNALIGNED = rule({
  id: 'dma-unaligned',
  severity: 'error',
  title: 'DMA map/unmap not aligned to the IOMMU page size',
  explanation:
    'type1 works in units of the smallest page size in the iova_pgsizes bitmap that VFIO_IOMMU_GET_INFO reported: ' +
    'MAP_DMA needs iova, vaddr and size aligned to it and UNMAP_DMA needs iova and size aligned, else EINVAL. For ' +
    'an iommufd IOAS the unit is out_iova_alignment from IOMMU_IOAS_IOVA_RANGES. The check uses the last page size ' +
    'the kernel actually reported.',
});

export const CAPS_REPLY_NOT_RETRIED = rule({
  id: 'caps-reply-not-retried',
  severity: 'warning',
  title: 'capability chain did not fit and the call was never retried',
  explanation:
    'When an INFO reply (VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_IOMMU_GET_INFO) has capabilities ' +
    'that do not fit in argsz, the kernel still succeeds: it sets the *_CAPS flag, raises argsz to the size needed, ' +
    'sets cap_offset to 0 and copies no capabilities. The caller is expected to call again with a buffer of the new ' +
    'argsz. Here no later call of the same ioctl on the same fd (and region index) came with that size, so the ' +
    'capabilities (sparse mmap areas, IOVA ranges, DMA limits, ...) were never read.',
});

export const SET_IRQS_UNSUPPORTED = rule({
  id: 'set-irqs-unsupported',
  severity: 'error',
  title: 'VFIO_DEVICE_SET_IRQS on an index GET_IRQ_INFO said it cannot serve',
  explanation:
    'VFIO_DEVICE_GET_IRQ_INFO tells how many vectors an IRQ index has and whether it can signal an eventfd. ' +
    'VFIO_DEVICE_SET_IRQS checks start and count against that number (start < count of the index, start + count ' +
    'within it), so on an index with count 0 every SET_IRQS fails with EINVAL, and DATA_EVENTFD on an index ' +
    'without VFIO_IRQ_INFO_EVENTFD cannot be wired. The check uses the last answer the kernel gave for that index.',
});

export const EEH_WITHOUT_CHECK_EXTENSION = rule({
  id: 'eeh-without-check-extension',
  severity: 'warning',
  title: 'VFIO_EEH_PE_OP without a prior VFIO_CHECK_EXTENSION(VFIO_EEH)',
  explanation:
    'EEH support depends on the platform and on EEH being enabled in the host kernel; VFIO_CHECK_EXTENSION with ' +
    'VFIO_EEH returns 1 only when it is usable (type1 always says 0). A caller that issues VFIO_EEH_PE_OP without ' +
    'asking first cannot tell "EEH is off" (EIO on ENABLE, ENOENT for missing platform ops) from a real error. ' +
    'Judged on intent: it holds whatever the answers were. Reported once per container.',
});

export const EEH_AFTER_CHECK_SAID_NO = rule({
  id: 'eeh-after-check-said-no',
  severity: 'warning',
  title: 'VFIO_EEH_PE_OP although VFIO_CHECK_EXTENSION(VFIO_EEH) answered 0',
  explanation:
    'The kernel said EEH is not available (EEH globally disabled, or not an sPAPR platform), yet the caller went on ' +
    'to issue EEH operations, which can only fail. Reported once per container.',
});

export const EEH_ON_NON_SPAPR = rule({
  id: 'eeh-on-non-spapr-container',
  severity: 'error',
  title: 'VFIO_EEH_PE_OP on a container whose backend is not sPAPR TCE',
  explanation:
    'Since v6.2 VFIO_EEH_PE_OP is served by the sPAPR TCE backend alone (VFIO_SPAPR_TCE_IOMMU or ' +
    'VFIO_SPAPR_TCE_v2_IOMMU); a container with the type1 or noiommu backend passes the command to a backend that ' +
    'does not know it and the caller gets ENOTTY. The container\'s backend here is the one named by its last ' +
    'VFIO_SET_IOMMU (noted when that call failed).',
});

export const EEH_RESET_NOT_DEACTIVATED = rule({
  id: 'eeh-reset-not-deactivated',
  severity: 'error',
  title: 'EEH RESET_HOT/RESET_FUNDAMENTAL not followed by RESET_DEACTIVATE',
  explanation:
    'VFIO_EEH_PE_RESET_HOT and VFIO_EEH_PE_RESET_FUNDAMENTAL assert a reset on the PE and leave it asserted; only ' +
    'VFIO_EEH_PE_RESET_DEACTIVATE releases it (PAPR\'s ibm,set-slot-reset 1/3 followed by 0). Until then the ' +
    'devices are held in reset. Reported when another EEH op other than GET_STATE or a further reset comes next, ' +
    'or when the trace ends with the reset still asserted.',
});

export const EEH_CONFIGURE_WITHOUT_RESET = rule({
  id: 'eeh-configure-without-reset',
  severity: 'info',
  title: 'EEH CONFIGURE with neither a reset nor a state check since the last one',
  explanation:
    'VFIO_EEH_PE_CONFIGURE is PAPR\'s ibm,configure-pe (QEMU\'s rtas_ibm_configure_pe); the host\'s ' +
    'eeh_pe_configure only checks the PE. Linux issues it through configure_bridge inside recovery alone ' +
    '(eeh_handle_normal_event): when collecting the error log, before any reset (eeh_slot_error_detail thaws MMIO ' +
    'and configures, for the temporary and the permanent log), and after the reset (eeh_reset_device). Every one ' +
    'of those follows a state read (ibm,read-slot-reset-state2, i.e. VFIO_EEH_PE_GET_STATE) or a completed reset ' +
    '(RESET_HOT or RESET_FUNDAMENTAL, then RESET_DEACTIVATE). A CONFIGURE with neither since the start or since ' +
    'the previous CONFIGURE is outside any recovery sequence: harmless to the PE, but a sign the caller does not ' +
    'follow one.',
});

export const EEH_DEACTIVATE_AFTER_FAILED_RESET = rule({
  id: 'eeh-deactivate-after-failed-reset',
  severity: 'warning',
  title: 'EEH RESET_DEACTIVATE after the reset it would release failed',
  explanation:
    'A RESET_HOT or RESET_FUNDAMENTAL the kernel refused asserted nothing. Linux\'s eeh_pe_reset_full deactivates ' +
    'only a reset that succeeded; after a failed one it tries the reset again (three times), then gives up and ' +
    'collects the permanent log (eeh_slot_error_detail with EEH_LOG_PERM: GET_STATE, UNFREEZE_IO, CONFIGURE), so ' +
    'those ops after a failed reset are by design. QEMU passes the failure on to the guest (RTAS_OUT_HW_ERROR from ' +
    'spapr_phb_vfio_eeh_reset). Issuing RESET_DEACTIVATE next carries on as if the reset had happened. Judged ' +
    'on the kernel\'s answers: only on a container where some EEH op succeeded, so a host without EEH (where every ' +
    'op fails) does not count.',
});

export const EEH_UNFREEZE_WHEN_NORMAL = rule({
  id: 'eeh-unfreeze-when-normal',
  severity: 'warning',
  title: 'EEH UNFREEZE while the last GET_STATE said NORMAL',
  explanation:
    'VFIO_EEH_PE_UNFREEZE_IO and VFIO_EEH_PE_UNFREEZE_DMA thaw a frozen PE. The most recent ' +
    'VFIO_EEH_PE_GET_STATE returned 0 (VFIO_EEH_PE_STATE_NORMAL) and no op since could have changed that (a ' +
    'reset, CONFIGURE, ENABLE or INJECT_ERR can leave the PE frozen, so thawing after them is normal recovery): ' +
    'nothing is frozen, and the caller acts on a misread state.',
});

export const EEH_ACCESS_WHILE_STOPPED = rule({
  id: 'eeh-access-while-stopped',
  severity: 'warning',
  title: 'device region access ioctl while the PE is reported stopped',
  explanation:
    'After VFIO_EEH_PE_GET_STATE reports VFIO_EEH_PE_STATE_STOPPED (or STOPPED_DMA) the PE is frozen: MMIO reads ' +
    'return all ones, writes are dropped, DMA is blocked. Device ioctls that touch regions or interrupts ' +
    '(VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE) act on a ' +
    'device that cannot respond until recovery (UNFREEZE, ENABLE, a reset cycle or CONFIGURE). Reported once per ' +
    'stopped state.',
});

export const RULES: readonly RuleInfo[] = [
  GET_DEVICE_FD_WITHOUT_CONTAINER,
  GET_DEVICE_FD_BEFORE_SET_IOMMU,
  IOMMU_IOCTL_BEFORE_SET_IOMMU,
  SET_IOMMU_WITHOUT_GROUP,
  SET_IOMMU_REPEATED,
  SET_IOMMU_AFTER_CHECK_SAID_NO,
  DEVICE_IOCTL_BEFORE_BIND,
  DMA_MAP_OVERLAP,
  DMA_UNMAP_UNMAPPED,
  DMA_UNALIGNED,
  CAPS_REPLY_NOT_RETRIED,
  SET_IRQS_UNSUPPORTED,
  EEH_WITHOUT_CHECK_EXTENSION,
  EEH_AFTER_CHECK_SAID_NO,
  EEH_ON_NON_SPAPR,
  EEH_RESET_NOT_DEACTIVATED,
  EEH_CONFIGURE_WITHOUT_RESET,
  EEH_DEACTIVATE_AFTER_FAILED_RESET,
  EEH_UNFREEZE_WHEN_NORMAL,
  EEH_ACCESS_WHILE_STOPPED,
];

export const RULES_BY_ID: ReadonlyMap<string, RuleInfo> = new Map(RULES.map((r) => [r.id, r]));
