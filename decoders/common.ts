// Pieces every VFIO family shares: the capability header and the argsz word.

import { i, io, o, struct, u16, u32, dec } from '../src/decode/dsl.js';
import { type RetFn } from '../src/decode/ioctlDesc.js';

/** struct vfio_info_cap_header: starts every capability; `next` is a byte offset from the buffer start. */
export const vfio_info_cap_header = struct('vfio_info_cap_header', [
  o('id', u16),
  o('version', u16),
  o('next', u32),
]);

export const argszIn = i('argsz', u32, dec);
/** argsz of an INFO ioctl: the kernel raises it when the capabilities need more room. */
export const argszInOut = io('argsz', u32, dec);

/** Header of a capability, as the first field of a cap struct. */
export const capHeaderField = o('header', vfio_info_cap_header);

/** What any ioctl on a device fd may answer, whatever it is (merged into each one's own reasons). */
export const DEVICE_FD_ERRNOS: Readonly<Record<string, string>> = {
  EINVAL: 'a cdev fd not yet bound to an iommufd (every ioctl but BIND)',
};

/** A non-negative return that carries no payload beyond success. */
export const retSuccess: RetFn = (r) => ({ meaning: r === 0 ? 'success' : `returned ${r}` });

/**
 * [kernel name, value] pairs for enumOf/flags from the family's exported
 * constants, written `named({ VFIO_X, VFIO_Y })`: each name appears once, as
 * the identifier that src/model and src/emulate import.
 */
export function named(consts: Readonly<Record<string, number>>): readonly (readonly [string, number])[] {
  return Object.entries(consts);
}
