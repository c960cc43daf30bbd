// Ordering of the setup calls: group → container → backend → device, and the
// cdev bind. Judged on intent: a prerequisite counts as issued even when the
// kernel refused it (its failure is already visible as an error return).

import type { DecodedIoctl } from '../../decode/types.js';
import type { EventContext } from '../../model/session.js';
import { IOMMU_TYPE_NAMES } from '../../model/vfio.js';
import { ioctlSet, isIoctl, type IoctlName } from '../../model/ioctlName.js';
import * as R from '../rules.js';
import type { Check, Reporter } from '../types.js';

/** Container commands that need no backend. */
const BACKEND_FREE = ioctlSet(['VFIO_GET_API_VERSION', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU']);

function failedNote(what: IoctlName, a: { seq: number; ok: boolean; errno: string | null }): string[] {
  return a.ok ? [] : [`${what} #${a.seq} failed (${a.errno ?? 'error'}): the kernel state lacks it`];
}

export function setupChecks(): Check {
  /** Devices already reported for device-ioctl-before-bind (once each, not per call). */
  const unboundReported = new Set<string>();
  /** Last CHECK_EXTENSION answer per process and extension, asked on a container without a backend. */
  const noBackendAnswers = new Map<string, { seq: number; answer: number }>();
  return {
  before(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void {
    const obj = ctx.obj;
    const at = { seq: ev.seq, pid: ev.pid };
    // "Never issued" cannot be known for a process traced from mid-session.
    const sawStart = !ctx.proc.midSession;
    if (obj.kind === 'group' && isIoctl(ev.ioctl, 'VFIO_GROUP_GET_DEVICE_FD') && sawStart) {
      if (!obj.container) {
        r.report(R.GET_DEVICE_FD_WITHOUT_CONTAINER, at, [ev.seq], `group ${obj.number} (fd ${obj.fd}) has no VFIO_GROUP_SET_CONTAINER`);
        return;
      }
      const target = r.model.groupTarget(obj);
      if (target?.kind === 'container' && target.iommu === null) {
        r.report(
          R.GET_DEVICE_FD_BEFORE_SET_IOMMU,
          at,
          [obj.container.seq, ev.seq],
          `group ${obj.number} is attached (#${obj.container.seq}) to container fd ${target.fd}, which has no VFIO_SET_IOMMU`,
          { notes: failedNote('VFIO_GROUP_SET_CONTAINER', obj.container) },
        );
      }
      return;
    }
    if (obj.kind === 'container') {
      const name = ev.ioctl;
      if (isIoctl(name, 'VFIO_CHECK_EXTENSION')) {
        // Without a backend every registered one is asked: a 0 means the host has none for that type.
        if (!obj.iommu?.ok && ev.ret.value >= 0) noBackendAnswers.set(`${ev.pid}:${ev.record.arg}`, { seq: ev.seq, answer: ev.ret.value });
        return;
      }
      if (isIoctl(name, 'VFIO_SET_IOMMU')) {
        const said = noBackendAnswers.get(`${ev.pid}:${ev.record.arg}`);
        if (said?.answer === 0) {
          const t = Number(BigInt.asIntN(32, ev.record.arg));
          r.report(
            R.SET_IOMMU_AFTER_CHECK_SAID_NO,
            at,
            [said.seq, ev.seq],
            `VFIO_SET_IOMMU(${IOMMU_TYPE_NAMES[t] ?? `type ${t}`}) on container fd ${obj.fd}; VFIO_CHECK_EXTENSION #${said.seq} answered 0`,
          );
        }
        if (obj.groups.size === 0 && sawStart) {
          r.report(R.SET_IOMMU_WITHOUT_GROUP, at, [ev.seq], `container fd ${obj.fd} has no group attached`);
        }
        const prev = obj.iommu;
        if (prev) {
          const prevName = IOMMU_TYPE_NAMES[prev.type] ?? `type ${prev.type}`;
          if (prev.ok) {
            r.report(R.SET_IOMMU_REPEATED, at, [prev.seq, ev.seq], `backend already set to ${prevName} by #${prev.seq}`);
          } else {
            r.report(R.SET_IOMMU_REPEATED, at, [prev.seq, ev.seq], `VFIO_SET_IOMMU again after #${prev.seq} (${prevName})`, {
              severity: 'info',
              notes: [`premise rests on failed call #${prev.seq} (${prev.errno ?? 'error'}): the kernel set no backend, so this call is considered afresh`],
            });
          }
        }
        return;
      }
      const unknownContainerCmd = name === null && ev.candidates.length > 0;
      if ((name !== null && !BACKEND_FREE.has(name)) || unknownContainerCmd) {
        if (obj.iommu === null && sawStart) {
          const what = name ?? `request 0x${ev.request.toString(16)} (${ev.candidates.join(' or ')})`;
          r.report(R.IOMMU_IOCTL_BEFORE_SET_IOMMU, at, [ev.seq], `${what} on container fd ${obj.fd} with no VFIO_SET_IOMMU`);
        }
      }
      return;
    }
    if (sawStart && obj.kind === 'device' && obj.via === 'cdev' && obj.bind === null && !isIoctl(ev.ioctl, 'VFIO_DEVICE_BIND_IOMMUFD') && ev.ioctl !== null) {
      if (unboundReported.has(obj.id)) return;
      unboundReported.add(obj.id);
      r.report(R.DEVICE_IOCTL_BEFORE_BIND, at, [ev.seq], `${ev.ioctl} on ${obj.name ?? `fd ${obj.fd}`} before VFIO_DEVICE_BIND_IOMMUFD`);
    }
  },
};
}
