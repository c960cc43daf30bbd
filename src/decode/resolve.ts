// Which ioctl a request number means on a given fd: the one resolution the
// decoder applies to every call (and caches per number, fd kind and IOMMU).

import type { CallMemo } from './callMemo.js';
import type { Backend, IoctlDesc } from './ioctlDesc.js';
import { isPowerpc } from './encoding.js';
import type { FdState } from './fdtable.js';
import type { FdKind, Finding, Resolution } from './types.js';

/** VFIO_SET_IOMMU type → the backend that serves the container. */
export function backendOfIommuType(t: number): Backend | null {
  switch (t) {
    case 1:
    case 3:
      return 'type1';
    case 2:
      return 'spapr-v1';
    case 7:
      return 'spapr-v2';
    default:
      return null;
  }
}

/** VFIO_SET_IOMMU types by name, for findings. */
export const IOMMU_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'VFIO_TYPE1_IOMMU',
  2: 'VFIO_SPAPR_TCE_IOMMU',
  3: 'VFIO_TYPE1v2_IOMMU',
  6: 'VFIO_TYPE1_NESTING_IOMMU',
  7: 'VFIO_SPAPR_TCE_v2_IOMMU',
  8: 'VFIO_NOIOMMU_IOMMU',
};

export const servedBy = (d: IoctlDesc, b: Backend): boolean => d.backends === 'any' || d.backends.includes(b);
const isSpapr = (d: IoctlDesc): boolean => d.backends !== 'any' && !d.backends.includes('type1');

/** What a request number means on an fd, and how that was decided. */
export interface Resolved {
  desc: IoctlDesc | null;
  name: string | null;
  candidates: string[];
  res: Resolution;
  /** Findings every call resolved this way gets (copied per event). */
  notes: Finding[];
  /** Picked by a VFIO_SET_IOMMU that failed: the finding names that event. */
  failedPick: boolean;
  /** Calls decoded under this resolution (only for cached resolutions). */
  memo: CallMemo | null;
}

/**
 * The description a request means: among the candidates sharing its
 * number, those of the fd's kind, then of the container's IOMMU backend
 * (its last VFIO_SET_IOMMU), then of the architecture. Findings note a
 * number used on the wrong kind of fd or backend.
 */
export function resolveIoctl(cands: readonly IoctlDesc[], kind: FdKind, st: FdState, arch: string): Resolved {
  const ppc = isPowerpc(arch);
  const notes: Finding[] = [];
  let failedPick = false;
  let list = cands;
  let res: Resolution = cands.length === 1 ? 'unique' : 'fd-kind';
  if (kind !== 'other') {
    const byKind = list.filter((d) => d.fdKinds.includes(kind));
    if (byKind.length > 0) list = byKind;
    else {
      notes.push({ rule: 'ioctl-wrong-fd-kind', severity: 'warning', message: `${cands.map((d) => d.name).join(' / ')} is not an ioctl of a ${kind} fd (the kernel answers ENOTTY or EINVAL)` });
      if (cands.length > 1) res = 'ambiguous';
    }
  } else if (cands.length > 1) res = 'ambiguous';
  if (kind === 'container' || kind === 'iommufd') {
    const backend = st.iommu !== undefined ? backendOfIommuType(st.iommu) : null;
    if (backend !== null) {
      const byBackend = list.filter((d) => servedBy(d, backend));
      if (byBackend.length > 0) {
        // Only a pick the backend actually made can be wrong: a name never in
        // doubt (SET_IOMMU retried, CHECK_EXTENSION) owes nothing to it.
        if (byBackend.length < list.length || list.length > 1) {
          res = st.iommuFailed ? 'iommu-type-failed' : 'iommu-type';
          failedPick = st.iommuFailed === true;
        }
        list = byBackend;
      } else {
        notes.push({
          rule: 'ioctl-wrong-backend',
          severity: 'warning',
          message: `${list[0]?.name} is not served by this container's IOMMU backend (${IOMMU_TYPE_NAMES[st.iommu as number] ?? st.iommu}); the kernel answers ENOTTY`,
        });
      }
    } else if (list.length > 1) {
      // No SET_IOMMU seen: an iommufd only speaks the type1 compat API,
      // and sPAPR exists only on POWER.
      const pick = kind === 'iommufd' ? list.filter((d) => !isSpapr(d)) : list.filter((d) => (ppc ? d.backends === 'any' || isSpapr(d) : !isSpapr(d)));
      if (pick.length > 0 && pick.length < list.length) {
        list = pick;
        res = kind === 'iommufd' ? 'fd-kind' : 'arch';
      }
    }
  }
  if (list.length > 1) res = 'ambiguous';
  if (kind === 'container' && !ppc && st.iommu === undefined && list.length === 1 && isSpapr(list[0] as IoctlDesc)) {
    notes.push({ rule: 'ioctl-not-on-arch', severity: 'info', message: `${list[0]?.name} is an sPAPR TCE ioctl, which only POWER hosts serve (${arch} answers ENOTTY)` });
  }
  const names = [...new Set(list.map((d) => d.name))];
  const one = names.length === 1 ? (list[0] as IoctlDesc) : null;
  return { desc: one, name: one ? one.name : null, candidates: names.length > 1 ? names : [], res, notes, failedPick, memo: null };
}
