// What an errno usually means for a VFIO/iommufd ioctl, when the ioctl's own
// description has nothing more specific.

import { RET_SUCCESS, type Backend, type IoctlDesc, type RetMeaning } from './ioctlDesc.js';
import type { Vals } from './dsl.js';
import type { FdKind, Finding, RetInfo } from './types.js';
import { kindFromPath } from './fdtable.js';

// Each reason follows the errno's own message ("Invalid argument: …"), so
// it says what the message does not: no repeating its words.
const GENERIC: Readonly<Record<string, string>> = {
  EINVAL: 'argsz below minsz, unknown flags, or a bad field value',
  ENOTTY: 'the fd does not implement this ioctl',
  EFAULT: 'the kernel could not read or write the argument (bad pointer or argsz past mapped memory)',
  EBADF: 'not an open fd',
  EBADFD: 'the fd is not of the kind this call needs',
  EPERM: 'wrong process, missing privilege, or not yet enabled',
  EACCES: 'e.g. VF token, or v1 container',
  EBUSY: 'in use by another user or during a reset',
  ENODEV: 'the device or group is gone',
  ENXIO: 'e.g. no group attached',
  ENOMEM: 'the kernel ran out of memory, or a locked-memory limit was hit',
  ENOSPC: 'the buffer or a kernel limit is too small',
  ENOENT: 'the object, mapping or IOVA is not there',
  EEXIST: 'already there (e.g. an overlapping mapping)',
  EIO: 'e.g. the device failed to resume, or EEH is disabled',
  E2BIG: 'non-zero bytes in a part of the struct the kernel does not understand',
  EOPNOTSUPP: 'the call is understood but a field value is not supported',
  EOVERFLOW: 'arithmetic overflow in the requested range',
  EMSGSIZE: 'the output array is too small; the needed count was written back',
  EINTR: 'a signal arrived during the call',
  EAGAIN: 'retry the call',
  ERESTARTSYS: 'a signal arrived; restarted if the signal handler allows it',
};

/** Why a VFIO/iommufd ioctl gives this errno, in general; '' when nothing more than its message can be said. */
export function genericErrnoMeaning(errno: string): string {
  return GENERIC[errno] ?? '';
}

const KIND_NOUN: Record<FdKind, string> = {
  container: 'a VFIO container',
  group: 'a VFIO group',
  device: 'a VFIO device',
  iommufd: 'an iommufd',
  migration: 'a VFIO migration fd',
  dmabuf: 'a VFIO dma-buf',
  other: 'a VFIO fd',
};

/** What ENOTTY tells about one call, from what the decoder knows of the ioctl and the fd. */
export interface EnottyFacts {
  /** The ioctl's fd kinds and container backends; null when the number is unknown or ambiguous. */
  ioctl: { fdKinds: readonly FdKind[]; backends: readonly Backend[] | 'any' } | null;
  kind: FdKind;
  /** The kind came from the fd's path alone (a regular file at that path answers ENOTTY too). */
  kindFromPath: boolean;
  /** The container's last VFIO_SET_IOMMU picked a backend that does not serve this ioctl. */
  wrongBackend: boolean;
}

/**
 * ENOTTY means "this file does not implement this ioctl". Which reasons are
 * plausible depends on the ioctl and on how sure we are of the fd's kind: a
 * real container always implements its core ioctls, so ENOTTY on one whose
 * kind came only from its path says the fd is probably not a container.
 */
export function enottyMeaning(f: EnottyFacts): string {
  const d = f.ioctl;
  // An unknown or ambiguous number: nothing to add to the errno's own text.
  if (d === null) return '';
  const meant = [...new Set(d.fdKinds.map((k) => KIND_NOUN[k]))].join(' or ');
  if (f.kind === 'other') return `the fd does not implement this ioctl (it is for ${meant})`;
  if (!d.fdKinds.includes(f.kind)) return `not an ioctl of ${KIND_NOUN[f.kind]} (it is for ${meant})`;
  if (f.wrongBackend) return "the container's IOMMU backend does not serve this ioctl";
  // Besides "not really that kind", the reasons a real fd of the kind gives ENOTTY.
  let other: string | null = null;
  if (f.kind === 'container' && d.backends !== 'any') other = 'its IOMMU backend does not serve it';
  else if (f.kind === 'device') other = "its driver does not implement it";
  if (!f.kindFromPath) return other !== null ? `the fd does not implement this ioctl: ${other}` : 'the fd does not implement this ioctl';
  return `the fd does not implement this ioctl: not ${KIND_NOUN[f.kind]}${other !== null ? `, or ${other}` : ''}?`;
}

/** What a call's return value is explained from. */
export interface ReturnFacts {
  desc: IoctlDesc | null;
  incomplete: boolean;
  ret: number;
  errno: string | null;
  inVals: Vals;
  outVals: Vals | null;
  /** The arg register as a number (integer arguments). */
  arg: number;
  kind: FdKind;
  fdPath: string;
  /** The call's findings so far (a wrong-backend finding sharpens ENOTTY). */
  findings: readonly Finding[];
}

// One RetInfo for every plain success (nothing mutates an event's RetInfo; frozen to make sure).
const RETINFO_SUCCESS: RetInfo = Object.freeze({ value: 0, errno: null, meaning: RET_SUCCESS.meaning });

/** The return value and what it means: the ioctl's own words first, then the errno's general ones. */
export function explainReturn(f: ReturnFacts): RetInfo {
  const { desc, ret, errno } = f;
  if (f.incomplete) return { value: 0, errno: null, meaning: 'the call did not return (thread died or tracer detached)' };
  if (ret < 0) {
    const why = (errno && (desc?.errnoWhy?.(errno, f.inVals) ?? desc?.errnos[errno])) || (errno === 'ENOTTY' ? enottyMeaning({
      ioctl: desc,
      kind: f.kind,
      // A regular file can sit at a /dev path; an anonymous inode is what it says.
      kindFromPath: f.fdPath.startsWith('/') && kindFromPath(f.fdPath) === f.kind,
      wrongBackend: f.findings.some((x) => x.rule === 'ioctl-wrong-backend'),
    }) : errno ? genericErrnoMeaning(errno) : 'unknown error');
    return { value: ret, errno, meaning: why };
  }
  if (!desc) return { value: ret, errno: null, meaning: '' };
  let m: RetMeaning;
  try {
    m = desc.ret(ret, { in: f.inVals, out: f.outVals, arg: f.arg });
  } catch {
    m = { meaning: String(ret) };
  }
  if (m === RET_SUCCESS) return RETINFO_SUCCESS;
  return m.newFd ? { value: ret, errno: null, meaning: m.meaning, newFd: m.newFd } : { value: ret, errno: null, meaning: m.meaning };
}
