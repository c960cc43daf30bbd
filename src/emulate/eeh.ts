// The PE (partitionable endpoint) behind the emulated group: EEH state
// machine plus the scripted faults of eehScript.ts. Natural behaviour follows
// the platform: a freeze stops MMIO and DMA, UNFREEZE_IO/DMA thaw one each,
// RESET_HOT/FUNDAMENTAL assert reset, RESET_DEACTIVATE deasserts it and
// re-enables the PE, ENABLE (QEMU's PHB reset) clears a freeze.

import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_DISABLE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_INJECT_ERR,
  VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_FUNDAMENTAL, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_STATE_NORMAL,
  VFIO_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_STOPPED_DMA, VFIO_EEH_PE_STATE_UNAVAIL,
  VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { eehOpName, eehStateName } from '../model/vfio.js';
import { fail, type ErrnoName } from './errno.js';
import type { EehRule } from './eehScript.js';

export interface PeChange {
  state: number;
  /** Why: "VFIO_EEH_PE_RESET_HOT", "script: after 3 ENABLE: …", "set by user". */
  reason: string;
}

export class ProtectionDomain {
  enabled = false;
  private mmioFrozen = false;
  private dmaFrozen = false;
  private resetActive = false;
  private unavail = false;
  /** A scripted state that sticks until the listed ops were seen in order. */
  private forced: { state: number; until: number[]; next: number } | null = null;
  private failing: { errno: ErrnoName; once: boolean } | null = null;
  private readonly counts = new Map<number, number>();
  private readonly listeners: ((c: PeChange) => void)[] = [];
  private readonly resetListeners: (() => void)[] = [];
  private readonly opListeners: ((op: number, ret: number) => void)[] = [];
  /** The state last announced (a PE starts NORMAL). */
  private reported: number = VFIO_EEH_PE_STATE_NORMAL;
  /** Every state change, in order (for tests and the TUI). */
  readonly history: PeChange[] = [];

  constructor(private readonly rules: readonly EehRule[] = []) {
    for (const r of rules) if (r.after === null) this.apply(r);
  }

  onChange(fn: (c: PeChange) => void): void {
    this.listeners.push(fn);
  }

  /** Called after every op with its return value (GET_STATE: the state). */
  onOp(fn: (op: number, ret: number) => void): void {
    this.opListeners.push(fn);
  }

  /** Called when a hot or fundamental reset is asserted, before the state change is announced. */
  onReset(fn: () => void): void {
    this.resetListeners.push(fn);
  }

  /**
   * Whether the PE's MMIO answers all-ones now: frozen (STOPPED), in reset
   * (the host blocks config access while a reset is asserted) or unavailable.
   * STOPPED_DMA has MMIO thawed.
   */
  mmioBlocked(): boolean {
    const s = this.state();
    return s === VFIO_EEH_PE_STATE_STOPPED || s === VFIO_EEH_PE_STATE_RESET || s === VFIO_EEH_PE_STATE_UNAVAIL;
  }

  /**
   * The platform detects an error on the PE and freezes it (MMIO and DMA),
   * as INJECT_ERR does; the client recovers it the ordinary way. With
   * `permanent`, no op thaws it again: a dead adapter.
   */
  freeze(reason: string, permanent = false): void {
    this.forced = permanent ? { state: VFIO_EEH_PE_STATE_STOPPED, until: [], next: 0 } : null;
    this.mmioFrozen = this.dmaFrozen = true;
    this.changed(reason);
  }

  /** What GET_STATE reports now. */
  state(): number {
    if (this.unavail) return VFIO_EEH_PE_STATE_UNAVAIL;
    if (this.resetActive) return VFIO_EEH_PE_STATE_RESET;
    if (this.forced) return this.forced.state;
    if (this.mmioFrozen) return VFIO_EEH_PE_STATE_STOPPED;
    if (this.dmaFrozen) return VFIO_EEH_PE_STATE_STOPPED_DMA;
    return VFIO_EEH_PE_STATE_NORMAL;
  }

  /** Live flip (TUI): the PE reports `state` from now on, until the client recovers it. */
  setState(state: number, reason = 'set by user'): void {
    this.forced = null;
    this.setNatural(state);
    this.changed(reason);
  }

  private setNatural(state: number): void {
    this.unavail = state === VFIO_EEH_PE_STATE_UNAVAIL;
    this.resetActive = state === VFIO_EEH_PE_STATE_RESET;
    this.mmioFrozen = state === VFIO_EEH_PE_STATE_STOPPED;
    this.dmaFrozen = state === VFIO_EEH_PE_STATE_STOPPED || state === VFIO_EEH_PE_STATE_STOPPED_DMA;
  }

  private changed(reason: string): void {
    const c = { state: this.state(), reason };
    if (c.state === this.reported) return;
    this.reported = c.state;
    this.history.push(c);
    for (const fn of this.listeners) fn(c);
  }

  private apply(r: EehRule): void {
    const a = r.action;
    if (a.kind === 'fail') this.failing = { errno: a.errno, once: a.once };
    else if (a.until.length > 0) this.forced = { state: a.state, until: a.until, next: 0 };
    else this.setNatural(a.state);
    this.changed(`script: ${r.text}`);
  }

  /**
   * Runs one validated op (argument checks are the container's job) and
   * returns the ioctl's return value: the state for GET_STATE, else 0 or -errno.
   */
  op(op: number): number {
    let ret = 0;
    if (this.failing) {
      ret = fail(this.failing.errno);
      if (this.failing.once) this.failing = null;
    } else {
      ret = this.natural(op);
    }
    this.afterOp(op);
    for (const fn of this.opListeners) fn(op, ret);
    return ret;
  }

  private natural(op: number): number {
    const sticky = this.forced !== null;
    switch (op) {
      case VFIO_EEH_PE_DISABLE:
        this.enabled = false;
        break;
      case VFIO_EEH_PE_ENABLE:
        this.enabled = true;
        if (!sticky) this.mmioFrozen = this.dmaFrozen = false;
        break;
      case VFIO_EEH_PE_UNFREEZE_IO:
        if (!sticky) this.mmioFrozen = false;
        break;
      case VFIO_EEH_PE_UNFREEZE_DMA:
        if (!sticky) this.dmaFrozen = false;
        break;
      case VFIO_EEH_PE_GET_STATE:
        return this.state();
      case VFIO_EEH_PE_RESET_HOT:
      case VFIO_EEH_PE_RESET_FUNDAMENTAL:
        this.resetActive = true;
        for (const fn of this.resetListeners) fn();
        break;
      case VFIO_EEH_PE_RESET_DEACTIVATE:
        this.resetActive = false;
        if (!sticky) this.mmioFrozen = this.dmaFrozen = false;
        break;
      case VFIO_EEH_PE_CONFIGURE:
        break;
      case VFIO_EEH_PE_INJECT_ERR:
        this.mmioFrozen = this.dmaFrozen = true;
        break;
    }
    this.changed(eehOpName(op));
    return 0;
  }

  private afterOp(op: number): void {
    const f = this.forced;
    if (f && f.until[f.next] === op) {
      f.next++;
      if (f.next === f.until.length) {
        this.forced = null;
        this.mmioFrozen = this.dmaFrozen = this.resetActive = false;
        this.changed(`recovered after ${f.until.map(eehOpName).join(', ')}`);
      }
    }
    const n = (this.counts.get(op) ?? 0) + 1;
    this.counts.set(op, n);
    for (const r of this.rules) if (r.after && r.after.op === op && r.after.count === n) this.apply(r);
  }
}

export { eehStateName };
