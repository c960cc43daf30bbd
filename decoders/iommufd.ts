// iommufd (/dev/iommu) commands, _IO(';', 0x80 + k). Each struct starts with
// `size` (the caller's sizeof); the kernel needs at least the command's
// min_size, copies in up to its own sizeof and requires every byte beyond
// that to be zero (else E2BIG). Pointers in these structs are not followed.

import { au64, enumOf, flags, hex, i, io, o, rsv, s32, struct, u16, u32, u8, union, array, dec, fdDisplay, ptrDisplay, type StructType } from '../src/decode/dsl.js';
import { ioctl, withErrnoDefaults, family, type IoctlDesc, type RetFn } from '../src/decode/ioctlDesc.js';
import { named } from './common.js';

const size = i('size', u32, dec);
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;
const MAP_FLAGS = flags(named({ IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_IOAS_MAP_READABLE }));

export const iommu_destroy = struct('iommu_destroy', [size, i('id', u32)]);
export const iommu_ioas_alloc = struct('iommu_ioas_alloc', [size, i('flags', u32, flags([])), o('out_ioas_id', u32)]);
export const iommu_iova_range = struct('iommu_iova_range', [i('start', au64, hex), i('last', au64, hex)]);
export const iommu_ioas_allow_iovas = struct('iommu_ioas_allow_iovas', [
  size, i('ioas_id', u32), i('num_iovas', u32), rsv('__reserved', u32), i('allowed_iovas', au64, ptrDisplay),
]);
export const iommu_ioas_copy = struct('iommu_ioas_copy', [
  size, i('flags', u32, MAP_FLAGS), i('dst_ioas_id', u32), i('src_ioas_id', u32),
  i('length', au64, hex), io('dst_iova', au64, hex), i('src_iova', au64, hex),
]);
export const iommu_ioas_iova_ranges = struct('iommu_ioas_iova_ranges', [
  size, i('ioas_id', u32),
  // In: room in allowed_iovas; out: the number of ranges (EMSGSIZE when it did not fit).
  io('num_iovas', u32), rsv('__reserved', u32),
  i('allowed_iovas', au64, ptrDisplay), o('out_iova_alignment', au64, hex),
]);
export const iommu_ioas_map = struct('iommu_ioas_map', [
  size, i('flags', u32, MAP_FLAGS), i('ioas_id', u32), rsv('__reserved', u32),
  i('user_va', au64, ptrDisplay), i('length', au64, hex), io('iova', au64, hex),
]);
export const iommu_ioas_unmap = struct('iommu_ioas_unmap', [size, i('ioas_id', u32), i('iova', au64, hex), io('length', au64, hex)]);
export const IOMMU_OPTION_RLIMIT_MODE = 0;
export const IOMMU_OPTION_HUGE_PAGES = 1;
export const IOMMU_OPTION_OP_SET = 0;
export const IOMMU_OPTION_OP_GET = 1;
export const iommu_option = struct('iommu_option', [
  size,
  i('option_id', u32, enumOf(named({ IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_HUGE_PAGES }))),
  i('op', u16, enumOf(named({ IOMMU_OPTION_OP_SET, IOMMU_OPTION_OP_GET }))),
  rsv('__reserved', u16), i('object_id', u32), io('val64', au64, dec),
]);
export const IOMMU_VFIO_IOAS_GET = 0;
export const IOMMU_VFIO_IOAS_SET = 1;
export const IOMMU_VFIO_IOAS_CLEAR = 2;
export const iommu_vfio_ioas = struct('iommu_vfio_ioas', [
  size, io('ioas_id', u32),
  i('op', u16, enumOf(named({ IOMMU_VFIO_IOAS_GET, IOMMU_VFIO_IOAS_SET, IOMMU_VFIO_IOAS_CLEAR }))),
  rsv('__reserved', u16),
]);
export const iommu_hwpt_alloc = struct('iommu_hwpt_alloc', [
  size,
  i('flags', u32, flags([
    ['IOMMU_HWPT_ALLOC_NEST_PARENT', 1 << 0],
    ['IOMMU_HWPT_ALLOC_DIRTY_TRACKING', 1 << 1],
    ['IOMMU_HWPT_FAULT_ID_VALID', 1 << 2],
    ['IOMMU_HWPT_ALLOC_PASID', 1 << 3],
  ])),
  i('dev_id', u32), i('pt_id', u32), o('out_hwpt_id', u32), rsv('__reserved', u32),
  i('data_type', u32), i('data_len', u32), i('data_uptr', au64, ptrDisplay),
  i('fault_id', u32), rsv('__reserved2', u32),
]);
export const IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0;
export const IOMMU_HW_INFO_TYPE_NONE = 0;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1;
export const IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2;
export const IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3;
export const IOMMU_HW_INFO_TYPE_AMD = 4;
const HW_INFO_TYPES = enumOf(named({
  IOMMU_HW_INFO_TYPE_NONE, IOMMU_HW_INFO_TYPE_INTEL_VTD, IOMMU_HW_INFO_TYPE_ARM_SMMUV3, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
  IOMMU_HW_INFO_TYPE_AMD,
}));
export const iommu_hw_info = struct('iommu_hw_info', [
  size, i('flags', u32, flags(named({ IOMMU_HW_INFO_FLAG_INPUT_TYPE }))), i('dev_id', u32), io('data_len', u32), i('data_uptr', au64, ptrDisplay),
  // In: the type asked for, read only with IOMMU_HW_INFO_FLAG_INPUT_TYPE; out: the type reported.
  io('', union('', [
    i('in_data_type', u32, { display: HW_INFO_TYPES, when: (v) => ((v.flags ?? 0) & IOMMU_HW_INFO_FLAG_INPUT_TYPE) !== 0 }),
    o('out_data_type', u32, HW_INFO_TYPES),
  ])),
  o('out_max_pasid_log2', u8), o('__reserved', array(u8, 3)),
  o('out_capabilities', au64, flags([
    ['IOMMU_HW_CAP_DIRTY_TRACKING', 1 << 0],
    ['IOMMU_HW_CAP_PCI_PASID_EXEC', 1 << 1],
    ['IOMMU_HW_CAP_PCI_PASID_PRIV', 1 << 2],
  ])),
]);
export const iommu_hwpt_set_dirty_tracking = struct('iommu_hwpt_set_dirty_tracking', [
  size, i('flags', u32, flags([['IOMMU_HWPT_DIRTY_TRACKING_ENABLE', 1]])), i('hwpt_id', u32), rsv('__reserved', u32),
]);
export const iommu_hwpt_get_dirty_bitmap = struct('iommu_hwpt_get_dirty_bitmap', [
  size, i('hwpt_id', u32), i('flags', u32, flags([['IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR', 1]])), rsv('__reserved', u32),
  i('iova', au64, hex), i('length', au64, hex), i('page_size', au64, hex), i('data', au64, ptrDisplay),
]);
export const iommu_hwpt_invalidate = struct('iommu_hwpt_invalidate', [
  size, i('hwpt_id', u32), i('data_uptr', au64, ptrDisplay), i('data_type', u32), i('entry_len', u32),
  // In: entries offered; out: entries handled.
  io('entry_num', u32), rsv('__reserved', u32),
]);
export const iommu_fault_alloc = struct('iommu_fault_alloc', [size, i('flags', u32, flags([])), o('out_fault_id', u32), o('out_fault_fd', u32, fdDisplay)]);
export const iommu_ioas_map_file = struct('iommu_ioas_map_file', [
  size, i('flags', u32, MAP_FLAGS), i('ioas_id', u32), i('fd', s32, fdDisplay),
  i('start', au64, hex), i('length', au64, hex), io('iova', au64, hex),
]);
export const iommu_viommu_alloc = struct('iommu_viommu_alloc', [
  size, i('flags', u32, flags([])), i('type', u32), i('dev_id', u32), i('hwpt_id', u32), o('out_viommu_id', u32),
  i('data_len', u32), rsv('__reserved', u32), i('data_uptr', au64, ptrDisplay),
]);
export const iommu_vdevice_alloc = struct('iommu_vdevice_alloc', [
  size, i('viommu_id', u32), i('dev_id', u32), o('out_vdevice_id', u32), i('virt_id', au64, hex),
]);
export const iommu_ioas_change_process = struct('iommu_ioas_change_process', [size, rsv('__reserved', u32)]);
export const iommu_veventq_alloc = struct('iommu_veventq_alloc', [
  size, i('flags', u32, flags([])), i('viommu_id', u32), i('type', u32), i('veventq_depth', u32),
  o('out_veventq_id', u32), o('out_veventq_fd', u32, fdDisplay), rsv('__reserved', u32),
]);
export const iommu_hw_queue_alloc = struct('iommu_hw_queue_alloc', [
  size, i('flags', u32, flags([])), i('viommu_id', u32), i('type', u32), i('index', u32), o('out_hw_queue_id', u32),
  i('nesting_parent_iova', au64, hex), i('length', au64, hex),
]);

const F = 'iommufd';
const COMMON = {
  ENOTTY: 'the command is not supported',
  E2BIG: 'non-zero bytes beyond the struct the kernel knows',
  EOPNOTSUPP: 'a known field has a value the kernel does not support',
  EINVAL: 'size below the minimum, or a field is not correct',
  ENOENT: 'an id or IOVA does not exist',
  EOVERFLOW: 'arithmetic overflow',
};

const newFdIn = (field: string, what: string): RetFn => (r, c) => {
  const fd = c.out?.[field];
  return fd !== undefined && r === 0 ? { meaning: `success; new ${what} fd ${fd}`, newFd: { fd, kind: 'other' } } : { meaning: r === 0 ? 'success' : `returned ${r}` };
};

function cmd<N extends string>(name: N, nr: number, type: StructType, minszEnd: string, extra: { writes?: IoctlDesc['writes']; errnos?: Record<string, string>; ret?: RetFn } = {}): IoctlDesc<N> {
  return ioctl(F, {
    name,
    nr,
    fdKinds: ['iommufd'],
    arg: { kind: 'struct', type },
    minszEnd,
    sizeField: 'size',
    zeroTail: true,
    writes: extra.writes ?? 'success',
    errnos: extra.errnos ?? {},
    ...(extra.ret ? { ret: extra.ret } : {}),
  });
}

export const iommufd = family({
  name: F,
  structs: [iommu_iova_range],
  ioctls: withErrnoDefaults(COMMON, [
    cmd('IOMMU_DESTROY', 0x80, iommu_destroy, 'id', { writes: 'never', errnos: { EBUSY: 'the object is still in use' } }),
    cmd('IOMMU_IOAS_ALLOC', 0x81, iommu_ioas_alloc, 'out_ioas_id'),
    cmd('IOMMU_IOAS_ALLOW_IOVAS', 0x82, iommu_ioas_allow_iovas, 'allowed_iovas', { writes: 'never' }),
    cmd('IOMMU_IOAS_COPY', 0x83, iommu_ioas_copy, 'src_iova'),
    cmd('IOMMU_IOAS_IOVA_RANGES', 0x84, iommu_ioas_iova_ranges, 'out_iova_alignment', {
      writes: { success: true, errnos: ['EMSGSIZE'] },
      errnos: { EMSGSIZE: 'allowed_iovas has too few entries: num_iovas now says how many are needed' },
    }),
    cmd('IOMMU_IOAS_MAP', 0x85, iommu_ioas_map, 'iova'),
    cmd('IOMMU_IOAS_UNMAP', 0x86, iommu_ioas_unmap, 'length', { errnos: { ENOENT: 'no mapping covers the range (QEMU treats this as success)' } }),
    cmd('IOMMU_OPTION', 0x87, iommu_option, 'val64'),
    cmd('IOMMU_VFIO_IOAS', 0x88, iommu_vfio_ioas, '__reserved'),
    cmd('IOMMU_HWPT_ALLOC', 0x89, iommu_hwpt_alloc, '__reserved'),
    cmd('IOMMU_GET_HW_INFO', 0x8a, iommu_hw_info, '__reserved'),
    cmd('IOMMU_HWPT_SET_DIRTY_TRACKING', 0x8b, iommu_hwpt_set_dirty_tracking, '__reserved', { writes: 'never' }),
    cmd('IOMMU_HWPT_GET_DIRTY_BITMAP', 0x8c, iommu_hwpt_get_dirty_bitmap, 'data', { writes: 'never' }),
    cmd('IOMMU_HWPT_INVALIDATE', 0x8d, iommu_hwpt_invalidate, '__reserved', { writes: { success: true, errnos: ['EINVAL', 'EOPNOTSUPP', 'ENOMEM', 'EFAULT'] } }),
    cmd('IOMMU_FAULT_QUEUE_ALLOC', 0x8e, iommu_fault_alloc, 'out_fault_fd', { ret: newFdIn('out_fault_fd', 'fault queue') }),
    cmd('IOMMU_IOAS_MAP_FILE', 0x8f, iommu_ioas_map_file, 'iova'),
    cmd('IOMMU_VIOMMU_ALLOC', 0x90, iommu_viommu_alloc, 'out_viommu_id'),
    cmd('IOMMU_VDEVICE_ALLOC', 0x91, iommu_vdevice_alloc, 'virt_id'),
    cmd('IOMMU_IOAS_CHANGE_PROCESS', 0x92, iommu_ioas_change_process, '__reserved', { writes: 'never' }),
    cmd('IOMMU_VEVENTQ_ALLOC', 0x93, iommu_veventq_alloc, 'out_veventq_fd', { ret: newFdIn('out_veventq_fd', 'vEVENTQ') }),
    cmd('IOMMU_HW_QUEUE_ALLOC', 0x94, iommu_hw_queue_alloc, 'length'),
  ]),
});
