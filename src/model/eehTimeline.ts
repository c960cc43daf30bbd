// The EEH story of each PE (one per container), in time: the PE state band,
// the ops as marks, and freeze episodes (frozen → detected → reset →
// recovered, or never recovered). Fed the same events as the session model,
// after the model applied them; it reads the model's own EEH op records
// (ContainerState.eeh.ops) instead of decoding the calls again.
//
// Instants are call entry times (DecodedEvent.ts: ns since the recording
// started). GET_STATE answers are observations; the state after other ops is
// inferred as the platform behaves (a freeze stops MMIO and DMA,
// UNFREEZE_IO/DMA thaw one each, RESET_HOT/FUNDAMENTAL assert reset,
// RESET_DEACTIVATE deasserts it and re-enables the PE, ENABLE clears a
// freeze) until the next GET_STATE says otherwise.

import type { DecodedEvent, DecodedIoctl } from '../decode/types.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_DISABLE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_INJECT_ERR,
  VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_FUNDAMENTAL, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_UNFREEZE_DMA,
  VFIO_EEH_PE_UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { ProcessEventKind } from '../trace/events.js';
import { Ring } from './ring.js';
import type { SessionModel } from './session.js';
import type { ContainerState, EehOpEntry, EehStateName } from './state.js';
import { eehOpName } from './vfio.js';
import { isIoctl } from './ioctlName.js';

/** What the band shows: a GET_STATE answer, or DISABLED after a DISABLE op. */
export type PeBandState = EehStateName | 'DISABLED';

export interface PeSegment {
  state: PeBandState;
  /** Start of the segment (ns since the recording started) and the call that began it. */
  from: number;
  seq: number;
  /** True when a GET_STATE answer reported the state; false when inferred from an op. */
  observed: boolean;
}

export interface PeMark {
  seq: number;
  ts: number;
  /** Op name without the VFIO_EEH_PE_ prefix ("RESET_HOT", "GET_STATE"). */
  op: string;
  ok: boolean;
  errno: string | null;
  /** GET_STATE's answer. */
  state?: EehStateName;
}

export type EpisodeEnd = 'recovered' | 'disabled' | 'process-exit' | 'recording-end';

export interface PeEpisode {
  /** The freeze: by INJECT_ERR (its time is the freeze time) or first seen by GET_STATE (the freeze happened before). */
  frozen: { ts: number; seq: number; by: 'INJECT_ERR' | 'GET_STATE' };
  /** Last GET_STATE = NORMAL before the freeze: the freeze happened after it. */
  lastNormal: { ts: number; seq: number } | null;
  /** First GET_STATE in the episode that reported a state other than NORMAL. */
  detected: { ts: number; seq: number; state: EehStateName } | null;
  /** Accepted ops other than GET_STATE, in order (the first RECOVERY_OPS_KEPT). */
  ops: PeMark[];
  opsTotal: number;
  /** Refused ops other than GET_STATE (the first RECOVERY_OPS_KEPT). */
  failed: PeMark[];
  failedTotal: number;
  /** State the PE was last known in (the band's), while the episode lasted. */
  lastState: PeBandState;
  end: { kind: EpisodeEnd; ts: number; seq: number } | null;
}

export interface PeTimeline {
  /** The container object's id in the session model. */
  id: string;
  pid: number;
  fd: number;
  path: string;
  /** State segments, oldest first (the last SEGMENTS_KEPT; segmentsDropped before them). */
  segments: PeSegment[];
  segmentsDropped: number;
  /** Ops other than GET_STATE, and GET_STATE answers that differ from the previous answer (the last MARKS_KEPT). */
  marks: Ring<PeMark>;
  /** The last GET_STATE answer. */
  lastAnswer: EehStateName | null;
  opCount: number;
  /** Episodes, oldest first (the last EPISODES_KEPT; episodesDropped before them). */
  episodes: PeEpisode[];
  episodesDropped: number;
  firstTs: number;
  lastTs: number;
}

const SEGMENTS_KEPT = 4096;
const MARKS_KEPT = 1024;
const EPISODES_KEPT = 256;
const RECOVERY_OPS_KEPT = 32;

/** Op name without the uapi prefix (the band and the summary repeat it often). */
export function shortOp(op: number): string {
  return eehOpName(op).replace(/^VFIO_EEH_PE_/, '');
}

export class EehTimeline {
  private readonly pes = new Map<string, PeTimeline>();
  private readonly open = new Map<string, PeEpisode>();
  private readonly lastNormal = new Map<string, { ts: number; seq: number }>();
  private lastTs = 0;
  private lastSeq = -1;
  /** Called when a PE's band state changes (the Perfetto export draws it as it comes). */
  onSegment: ((pe: PeTimeline, seg: PeSegment, prev: PeSegment | null) => void) | null = null;

  constructor(private readonly model: SessionModel) {}

  /** Every PE with at least one EEH op, in order of first op. */
  timelines(): PeTimeline[] {
    return [...this.pes.values()];
  }

  /** Call with each event after the session model has applied it. */
  observe(ev: DecodedEvent): void {
    if (ev.kind === 'end') return;
    if (ev.ts > this.lastTs) this.lastTs = ev.ts;
    this.lastSeq = ev.seq;
    if (ev.kind === 'process') {
      const k = ev.record.kind;
      if (k === ProcessEventKind.Exit || k === ProcessEventKind.Killed) this.closeAll((pe) => pe.pid === ev.pid, 'process-exit', ev.ts, ev.seq);
      return;
    }
    if (!isIoctl(ev.ioctl, 'VFIO_EEH_PE_OP')) return;
    const c = this.model.lookup(ev.pid, ev.fd);
    if (c?.kind !== 'container') return;
    const entry = c.eeh.ops.at(c.eeh.ops.length - 1);
    // No entry for this call: the op could not be read (argument not captured).
    if (entry?.seq !== ev.seq) return;
    this.onOp(this.pe(c, ev), ev, entry);
  }

  /** Ends the episodes still open when the stream ends. Idempotent. */
  finish(): void {
    this.closeAll(() => true, 'recording-end', this.lastTs, this.lastSeq);
  }

  private pe(c: ContainerState, ev: DecodedIoctl): PeTimeline {
    let pe = this.pes.get(c.id);
    if (!pe) {
      pe = {
        id: c.id, pid: c.pid, fd: c.fd, path: ev.fdPath, segments: [], segmentsDropped: 0, marks: new Ring(MARKS_KEPT),
        lastAnswer: null, opCount: 0, episodes: [], episodesDropped: 0, firstTs: ev.ts, lastTs: ev.ts,
      };
      this.pes.set(c.id, pe);
    }
    return pe;
  }

  private onOp(pe: PeTimeline, ev: DecodedIoctl, e: EehOpEntry): void {
    pe.opCount++;
    if (ev.ts > pe.lastTs) pe.lastTs = ev.ts;
    const cur = pe.segments[pe.segments.length - 1]?.state ?? null;
    const mark: PeMark = e.state !== undefined
      ? { seq: e.seq, ts: ev.ts, op: shortOp(e.op), ok: e.ok, errno: e.errno, state: e.state }
      : { seq: e.seq, ts: ev.ts, op: shortOp(e.op), ok: e.ok, errno: e.errno };
    const next = e.ok ? nextState(e, cur) : cur;
    // A poll that repeats the last answer adds nothing to the picture.
    if (e.op !== VFIO_EEH_PE_GET_STATE || !e.ok || e.state !== pe.lastAnswer) pe.marks.push(mark);
    if (e.state !== undefined) pe.lastAnswer = e.state;
    this.episodeStep(pe, ev, e, mark, cur);
    if (next !== null && next !== cur) this.setState(pe, { state: next, from: ev.ts, seq: e.seq, observed: e.op === VFIO_EEH_PE_GET_STATE });
    const ep = this.open.get(pe.id);
    if (ep && next !== null) ep.lastState = next;
    if (e.state === 'NORMAL') this.lastNormal.set(pe.id, { ts: ev.ts, seq: e.seq });
  }

  private episodeStep(pe: PeTimeline, ev: DecodedIoctl, e: EehOpEntry, mark: PeMark, cur: PeBandState | null): void {
    let ep = this.open.get(pe.id);
    const getState = e.op === VFIO_EEH_PE_GET_STATE;
    if (!ep && e.ok && (e.op === VFIO_EEH_PE_INJECT_ERR || (getState && e.state !== undefined && isFreeze(e.state, cur)))) {
      ep = {
        frozen: { ts: ev.ts, seq: e.seq, by: getState ? 'GET_STATE' : 'INJECT_ERR' },
        lastNormal: this.lastNormal.get(pe.id) ?? null,
        detected: null, ops: [], opsTotal: 0, failed: [], failedTotal: 0, lastState: 'STOPPED', end: null,
      };
      this.open.set(pe.id, ep);
      if (pe.episodes.length >= EPISODES_KEPT) {
        pe.episodes.shift();
        pe.episodesDropped++;
      }
      pe.episodes.push(ep);
      if (!getState) return;
    }
    if (!ep) return;
    if (getState) {
      if (!e.ok || e.state === undefined) return;
      if (e.state === 'NORMAL') this.close(pe, 'recovered', ev.ts, e.seq);
      else ep.detected ??= { ts: ev.ts, seq: e.seq, state: e.state };
      return;
    }
    if (e.ok) {
      if (ep.ops.length < RECOVERY_OPS_KEPT) ep.ops.push(mark);
      ep.opsTotal++;
      if (e.op === VFIO_EEH_PE_DISABLE) this.close(pe, 'disabled', ev.ts, e.seq);
    } else {
      if (ep.failed.length < RECOVERY_OPS_KEPT) ep.failed.push(mark);
      ep.failedTotal++;
    }
  }

  private setState(pe: PeTimeline, seg: PeSegment): void {
    const prev = pe.segments[pe.segments.length - 1] ?? null;
    if (pe.segments.length >= SEGMENTS_KEPT) {
      pe.segments.shift();
      pe.segmentsDropped++;
    }
    pe.segments.push(seg);
    this.onSegment?.(pe, seg, prev);
  }

  private close(pe: PeTimeline, kind: EpisodeEnd, ts: number, seq: number): void {
    const ep = this.open.get(pe.id);
    if (!ep) return;
    ep.end = { kind, ts, seq };
    this.open.delete(pe.id);
  }

  private closeAll(which: (pe: PeTimeline) => boolean, kind: EpisodeEnd, ts: number, seq: number): void {
    for (const id of [...this.open.keys()]) {
      const pe = this.pes.get(id);
      if (pe && which(pe)) this.close(pe, kind, ts, seq);
    }
  }
}

/**
 * A GET_STATE answer that starts an episode: anything but NORMAL, except
 * RESET while the client itself holds the PE in reset, and UNAVAIL after
 * the client disabled EEH.
 */
function isFreeze(s: EehStateName, cur: PeBandState | null): boolean {
  if (s === 'NORMAL') return false;
  if (s === 'RESET' && cur === 'RESET') return false;
  if (s === 'UNAVAIL' && cur === 'DISABLED') return false;
  return true;
}

/** The band state after an accepted op (null: no state known yet). */
function nextState(e: EehOpEntry, cur: PeBandState | null): PeBandState | null {
  switch (e.op) {
    case VFIO_EEH_PE_GET_STATE:
      return e.state ?? cur;
    case VFIO_EEH_PE_ENABLE:
    case VFIO_EEH_PE_RESET_DEACTIVATE:
      return 'NORMAL';
    case VFIO_EEH_PE_DISABLE:
      return 'DISABLED';
    case VFIO_EEH_PE_UNFREEZE_IO:
      return cur === 'STOPPED' ? 'STOPPED_DMA' : cur;
    case VFIO_EEH_PE_UNFREEZE_DMA:
      return cur === 'STOPPED_DMA' ? 'NORMAL' : cur;
    case VFIO_EEH_PE_RESET_HOT:
    case VFIO_EEH_PE_RESET_FUNDAMENTAL:
      return 'RESET';
    case VFIO_EEH_PE_INJECT_ERR:
      return 'STOPPED';
    case VFIO_EEH_PE_CONFIGURE:
    default:
      return cur;
  }
}

/**
 * A session model and an EEH timeline fed together, for consumers with no
 * model of their own (show -c, the Perfetto export). The model keeps only
 * what the timeline reads: every call resolves its fd (so containers are
 * known by pid and fd), but only EEH ops are applied; DMA maps, IRQs and
 * the rest cost nothing here.
 */
export function eehTracker(model: SessionModel): { timeline: EehTimeline; feed(ev: DecodedEvent): void } {
  const timeline = new EehTimeline(model);
  return {
    timeline,
    feed(ev: DecodedEvent): void {
      if (ev.kind !== 'ioctl') model.apply(ev);
      else {
        const ctx = model.prepare(ev);
        if (isIoctl(ev.ioctl, 'VFIO_EEH_PE_OP')) model.commit(ev, ctx);
        else model.lastSeq = ev.seq;
      }
      timeline.observe(ev);
    },
  };
}
