// EEH (VFIO_EEH_PE_OP on an sPAPR container): the extension check, the
// backend, and the recovery sequence reset → deactivate → configure.

import type { DecodedIoctl } from '../../decode/types.js';
import { inNumber } from '../../model/fields.js';
import type { EventContext } from '../../model/session.js';
import { ioctlSet, isIoctl, type IoctlName } from '../../model/ioctlName.js';
import type { ContainerState, EehOpEntry } from '../../model/state.js';
import { VFIO_EEH } from '../../../decoders/container.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_FUNDAMENTAL,
  VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_UNFREEZE_IO,
} from '../../../decoders/eeh.js';
import { IOMMU_TYPE_NAMES, eehOpName, isSpaprType } from '../../model/vfio.js';
import * as R from '../rules.js';
import type { Check, Reporter } from '../types.js';

/** Device ioctls that reach the device's regions or interrupt wiring. */
const REGION_ACCESS = ioctlSet([
  'VFIO_DEVICE_GET_REGION_INFO',
  'VFIO_DEVICE_SET_IRQS',
  'VFIO_DEVICE_IOEVENTFD',
  'VFIO_DEVICE_FEATURE',
]);

/** The call a note about the container's backend names. */
const SET_IOMMU: IoctlName = 'VFIO_SET_IOMMU';

/** Ops that may come while a reset is asserted without ending it. */
const OK_DURING_RESET = new Set([
  VFIO_EEH_PE_GET_STATE,
  VFIO_EEH_PE_RESET_DEACTIVATE,
  VFIO_EEH_PE_RESET_HOT,
  VFIO_EEH_PE_RESET_FUNDAMENTAL,
]);

function failedNote(e: { seq: number; ok: boolean; errno: string | null }, what: string): string[] {
  return e.ok ? [] : [`premise rests on ${what} #${e.seq}, which failed (${e.errno ?? 'error'})`];
}

export function eehChecks(): Check {
  const checkReported = new Set<string>();
  const resetReported = new Set<EehOpEntry>();
  const stoppedReported = new Set<number>();
  /** seq of the last GET_STATE asked per container (asked: its answer does not matter here). */
  const lastLook = new Map<string, number>();

  function reportUndeactivated(r: Reporter, c: ContainerState, at: { seq: number; pid: number }, why: string): void {
    const p = c.eeh.pendingReset;
    if (!p || resetReported.has(p)) return;
    resetReported.add(p);
    r.report(
      R.EEH_RESET_NOT_DEACTIVATED,
      at,
      at.seq === p.seq ? [p.seq] : [p.seq, at.seq],
      `${eehOpName(p.op)} #${p.seq} on container fd ${c.fd} ${why}`,
      { notes: failedNote(p, eehOpName(p.op)) },
    );
  }

  function onEehOp(ev: DecodedIoctl, c: ContainerState, r: Reporter, sawStart: boolean): void {
    const op = inNumber(ev, 'op');
    if (op === undefined) return;
    const at = { seq: ev.seq, pid: ev.pid };
    const opName = eehOpName(op);

    if (!checkReported.has(c.id)) {
      const q = r.model.processes.get(ev.pid)?.extensions.get(VFIO_EEH);
      if (!q && sawStart) {
        checkReported.add(c.id);
        r.report(R.EEH_WITHOUT_CHECK_EXTENSION, at, [ev.seq], `${opName} on container fd ${c.fd} with no VFIO_CHECK_EXTENSION(VFIO_EEH) before it`);
      } else if (q?.answer === 0) {
        checkReported.add(c.id);
        r.report(R.EEH_AFTER_CHECK_SAID_NO, at, [q.seq, ev.seq], `${opName} on container fd ${c.fd}; VFIO_CHECK_EXTENSION(VFIO_EEH) #${q.seq} answered 0`);
      }
    }

    if (c.iommu && !isSpaprType(c.iommu.type)) {
      const t = IOMMU_TYPE_NAMES[c.iommu.type] ?? `type ${c.iommu.type}`;
      r.report(R.EEH_ON_NON_SPAPR, at, [c.iommu.seq, ev.seq], `${opName} on container fd ${c.fd}, whose backend is ${t} (#${c.iommu.seq})`, {
        notes: failedNote(c.iommu, SET_IOMMU),
      });
    }

    const e = c.eeh;
    if (e.pendingReset && !OK_DURING_RESET.has(op)) reportUndeactivated(r, c, at, `still asserted when ${opName} was issued`);

    if (op === VFIO_EEH_PE_RESET_DEACTIVATE && !e.pendingReset && e.refusedReset) {
      const f = e.refusedReset;
      r.report(
        R.EEH_DEACTIVATE_AFTER_FAILED_RESET,
        at,
        [f.seq, ev.seq],
        `${opName} on container fd ${c.fd}; ${eehOpName(f.op)} #${f.seq} failed (${f.errno ?? 'error'}), so there is no reset to release`,
      );
    }

    const looked = lastLook.get(c.id) ?? null;
    if (op === VFIO_EEH_PE_GET_STATE) lastLook.set(c.id, ev.seq);
    if (op === VFIO_EEH_PE_CONFIGURE && !e.pendingReset && (sawStart || e.lastConfigure !== null)) {
      const since = e.lastConfigure ?? -1;
      const done = e.lastCompletedReset;
      const resetSince = done !== null && done.deactivateSeq > since;
      const lookedSince = looked !== null && looked > since;
      if (!resetSince && !lookedSince) {
        r.report(
          R.EEH_CONFIGURE_WITHOUT_RESET,
          at,
          e.lastConfigure !== null ? [e.lastConfigure, ev.seq] : [ev.seq],
          e.lastConfigure !== null
            ? `VFIO_EEH_PE_CONFIGURE on container fd ${c.fd} with no GET_STATE and no reset cycle since the CONFIGURE #${e.lastConfigure}`
            : `VFIO_EEH_PE_CONFIGURE on container fd ${c.fd} with no GET_STATE and no completed reset before it`,
        );
      }
    }

    const stale = e.lastState !== null && e.lastStateChange !== null && e.lastStateChange > e.lastState.seq;
    if ((op === VFIO_EEH_PE_UNFREEZE_IO || op === VFIO_EEH_PE_UNFREEZE_DMA) && e.lastState?.state === 'NORMAL' && !stale) {
      r.report(R.EEH_UNFREEZE_WHEN_NORMAL, at, [e.lastState.seq, ev.seq], `${opName} on container fd ${c.fd}; GET_STATE #${e.lastState.seq} said NORMAL`);
    }
  }

  return {
    before(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void {
      const obj = ctx.obj;
      if (obj.kind === 'container' && isIoctl(ev.ioctl, 'VFIO_EEH_PE_OP')) {
        onEehOp(ev, obj, r, !ctx.proc.midSession);
        return;
      }
      if (obj.kind !== 'device' || ev.ioctl === null || !REGION_ACCESS.has(ev.ioctl)) return;
      const c = r.model.deviceContainer(obj);
      const st = c?.eeh.lastState;
      if (!c || !st || (st.state !== 'STOPPED' && st.state !== 'STOPPED_DMA')) return;
      if (c.eeh.lastRecovery !== null && c.eeh.lastRecovery > st.seq) return;
      if (stoppedReported.has(st.seq)) return;
      stoppedReported.add(st.seq);
      r.report(
        R.EEH_ACCESS_WHILE_STOPPED,
        { seq: ev.seq, pid: ev.pid },
        [st.seq, ev.seq],
        `${ev.ioctl} on device fd ${obj.fd} after GET_STATE #${st.seq} reported ${st.state}, with no recovery since`,
      );
    },
    end(r: Reporter): void {
      for (const o of r.model.objects.values()) {
        if (o.kind !== 'container' || !o.eeh.pendingReset) continue;
        const p = o.eeh.pendingReset;
        reportUndeactivated(r, o, { seq: p.seq, pid: o.pid }, 'was never followed by VFIO_EEH_PE_RESET_DEACTIVATE');
      }
    },
  };
}
