// A session in the Chrome trace-event JSON format, which ui.perfetto.dev and
// chrome://tracing open: a track per traced thread with each ioctl as a
// complete slice ("ph":"X", its decoded name, with the op for EEH calls;
// args: request, fd, the strace-style argument, ret/errno, the decoded
// payloads), process lifecycle as instant events, and per EEH PE
// (container) a counter of its state and a track of state slices, from the
// EEH timeline (src/model/eehTimeline.ts). Written as the events stream by:
// nothing but a few names per thread and the PE's open segment is kept, so a
// recording of any size exports in constant memory.
//
// Times: "ts" and "dur" in microseconds since the recording started, exact
// to the nanosecond (three decimals). Format reference: the Trace Event
// Format document of the Chromium project.

import type { CallText } from '../decode/callMemo.js';
import { IoctlEvent } from '../decode/event.js';
import type { DecodedEvent, DecodedIoctl, DecodedProcess } from '../decode/types.js';
import { EEH_STATES } from '../../decoders/eeh.js';
import { eehTracker, shortOp } from '../model/eehTimeline.js';
import { inNumber } from '../model/fields.js';
import type { PeBandState, PeSegment, PeTimeline } from '../model/eehTimeline.js';
import { SessionModel } from '../model/session.js';
import { EndReason, ProcessEventKind, type RecordingHeader } from '../trace/events.js';
import { OwnProcesses, unwrapCommand } from '../trace/wrapper.js';
import { flat } from './flat.js';
import { payloadJson } from './json.js';
import { signalName } from './names.js';
import type { Output } from './output.js';
import { argText, hex } from './text.js';
import { jsonStr as q } from './jsonText.js';

/** Counter value of each band state: the kernel's VFIO_EEH_PE_STATE_* value; -1 DISABLED, -2 UNKNOWN. */
export const PE_COUNTER: Readonly<Record<PeBandState, number>> = {
  ...(Object.fromEntries(EEH_STATES.map(([n, v]) => [n.slice('VFIO_EEH_PE_STATE_'.length), v])) as Record<string, number>),
  DISABLED: -1,
  UNKNOWN: -2,
} as Record<PeBandState, number>;

/** Thread ids for the PE state tracks: above any kernel tid (pid_max is at most 2^22). */
const PE_TID_BASE = 1 << 30;

/** ns → µs with three decimals, exact. */
export function micros(ns: number): string {
  const whole = Math.floor(ns / 1000);
  const frac = ns - whole * 1000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0')}`;
}

/** From `"request"` in args to the end of the slice: what calls decoded alike share. */
function ioctlTail(ev: DecodedIoctl): string {
  const name = ev.ioctl ?? hex(ev.request);
  // EEH calls are told apart by their op: "VFIO_EEH_PE_OP RESET_HOT".
  const op = name === 'VFIO_EEH_PE_OP' ? inNumber(ev, 'op') : undefined;
  const label = op === undefined ? name : `${name} ${shortOp(op)}`;
  const r = ev.ret;
  const failed = !ev.incomplete && r.value < 0;
  let s = `"request":${q(name)},"fd_path":${q(ev.fdPath)},"arg":${JSON.stringify(argText(ev))}`;
  s += `,"ret":${ev.incomplete ? 'null' : failed ? '-1' : String(r.value)}`;
  if (failed) s += `,"errno":${q(r.errno ?? `ERRNO_${-r.value}`)}`;
  if (r.meaning) s += `,"meaning":${q(r.meaning)}`;
  if (ev.incomplete) s += ',"incomplete":true';
  if (ev.in !== null || ev.out !== null) {
    const p = payloadJson(ev);
    s += `,"in":${p.in}`;
    if (!ev.incomplete) s += `,"out":${p.out}`;
  }
  if (ev.findings.length > 0) s += `,"findings":${q(ev.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n'))}`;
  return s + `},"name":${q(label)},"cat":${q(ev.family ?? 'ioctl')}}`;
}

interface PeTrack {
  tid: number;
  pid: number;
  open: PeSegment | null;
  /** End of the last slice written: slices on the track never overlap or go back. */
  lastEnd: number;
}

export class PerfettoWriter {
  private readonly eeh = eehTracker(new SessionModel());
  private readonly pids = new Set<number>();
  private readonly tids = new Set<number>();
  private readonly tracks = new Map<string, PeTrack>();
  private readonly tails = new WeakMap<CallText, string>();
  private lastTs = 0;
  private first = true;
  /** vfiotrace's own wrapper around a command it started: no part of the command's tracks. */
  private readonly wrapper: OwnProcesses;
  /** The traced command's name, for the first process's track. */
  private readonly command: string | undefined;
  events = 0;

  constructor(private readonly header: RecordingHeader, private readonly out: Output) {
    this.wrapper = OwnProcesses.forHeader(header);
    this.command = unwrapCommand(header.argv).command[0];
    this.eeh.timeline.onSegment = (pe, seg) => this.onSegment(pe, seg);
  }

  /** The document's head: the recording header as metadata, then the event array opens. */
  begin(): void {
    const h = this.header;
    const meta = {
      producer: h.producer, arch: h.arch, hostname: h.hostname, machine: h.machine, kernel: h.kernelRelease,
      argv: h.argv, attached_pids: h.attachedPids, start_realtime_ns: h.startRealtimeNs.toString(),
    };
    this.out.write(`{"displayTimeUnit":"ns","otherData":${JSON.stringify(meta)},"traceEvents":[\n`);
  }

  private emit(json: string): void {
    this.out.write(this.first ? json : ',\n' + json);
    this.first = false;
    this.events++;
  }

  /** Writes a batch; resolves when the output can take more. */
  async batch(events: readonly DecodedEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (this.wrapper.active && this.wrapper.isOwn(ev.record)) continue;
      if (ev.kind !== 'end' && ev.ts > this.lastTs) this.lastTs = ev.ts;
      if (ev.kind === 'ioctl') this.ioctl(ev);
      else if (ev.kind === 'process') this.process(ev);
      else {
        const r = ev.record;
        const why = r.reason === EndReason.TracerError ? `tracer error: ${r.text}` : (EndReason[r.reason] ?? String(r.reason)).toLowerCase();
        this.emit(`{"ph":"i","s":"g","name":${q(`end of trace (${why})`)},"cat":"process","pid":0,"tid":0,"ts":${micros(this.lastTs)},"args":{"dropped":${r.dropped}}}`);
      }
      // The EEH timeline after the event is written: a state change lands on its own track.
      this.eeh.feed(ev);
    }
    await this.out.flushIfFull();
  }

  /** Closes the PE segments still open and the document. */
  async finish(): Promise<void> {
    this.eeh.timeline.finish();
    for (const [id, t] of this.tracks) {
      if (t.open) this.segmentSlice(t, t.open, Math.max(this.lastTs, t.open.from), id);
      t.open = null;
    }
    this.out.write('\n]}\n');
    await this.out.flush();
  }

  private seen(pid: number, tid: number, name?: string): void {
    if (!this.pids.has(pid)) {
      this.pids.add(pid);
      const pname = name ?? (this.pids.size === 1 && this.command ? this.command : `pid ${pid}`);
      this.emit(`{"ph":"M","name":"process_name","pid":${pid},"tid":${pid},"args":{"name":${q(pname)}}}`);
    }
    if (!this.tids.has(tid)) {
      this.tids.add(tid);
      this.emit(`{"ph":"M","name":"thread_name","pid":${pid},"tid":${tid},"args":{"name":${q(tid === pid ? `main ${tid}` : `thread ${tid}`)}}}`);
    }
  }

  private ioctl(ev: DecodedIoctl): void {
    this.seen(ev.pid, ev.tid);
    // Calls decoded alike (decode/callMemo.ts) share everything after the per-call numbers: built once.
    const ct = ev instanceof IoctlEvent ? ev.sharedText : null;
    let tail = ct !== null ? this.tails.get(ct) : undefined;
    if (tail === undefined) {
      tail = flat(ioctlTail(ev));
      if (ct !== null) this.tails.set(ct, tail);
    }
    this.emit(`{"ph":"X","pid":${ev.pid},"tid":${ev.tid},"ts":${micros(ev.ts)},"dur":${micros(ev.dur ?? 0)},"args":{"seq":${ev.seq},"fd":${ev.fd},${tail}`);
  }

  private process(ev: DecodedProcess): void {
    const r = ev.record;
    if (r.kind === ProcessEventKind.Start) this.seen(ev.pid, ev.tid, r.text || undefined);
    else this.seen(ev.pid, ev.tid);
    let name: string;
    let scope = 'p';
    switch (r.kind) {
      case ProcessEventKind.Start: name = r.other > 0 ? `start (forked by ${r.other})` : 'start'; break;
      case ProcessEventKind.Exec: name = `exec ${r.text}`; break;
      case ProcessEventKind.Exit: name = `exited with ${r.value}`; break;
      case ProcessEventKind.Killed: name = `killed by ${signalName(r.value)}${r.other === 1 ? ' (core dumped)' : ''}`; break;
      case ProcessEventKind.Detached: name = 'detached'; break;
      case ProcessEventKind.Signal: name = signalName(r.value); scope = 't'; break;
      case ProcessEventKind.Thread: name = r.other === 0 ? 'thread attached' : `thread start (created by ${r.other})`; scope = 't'; break;
      default: name = `process event ${r.kind}`;
    }
    this.emit(`{"ph":"i","s":"${scope}","name":${q(name)},"cat":"process","pid":${ev.pid},"tid":${ev.tid},"ts":${micros(ev.ts)}}`);
  }

  private onSegment(pe: PeTimeline, seg: PeSegment): void {
    let t = this.tracks.get(pe.id);
    if (!t) {
      t = { tid: PE_TID_BASE + this.tracks.size, pid: pe.pid, open: null, lastEnd: 0 };
      this.tracks.set(pe.id, t);
      this.seen(pe.pid, pe.pid);
      this.emit(`{"ph":"M","name":"thread_name","pid":${pe.pid},"tid":${t.tid},"args":{"name":${q(`EEH PE state, container fd ${pe.fd}`)}}}`);
    }
    const at = Math.max(seg.from, t.lastEnd);
    if (t.open) this.segmentSlice(t, t.open, at, pe.id);
    t.open = seg;
    this.emit(`{"ph":"C","name":${q(`EEH PE state (container fd ${pe.fd})`)},"pid":${pe.pid},"ts":${micros(at)},"args":{"state":${PE_COUNTER[seg.state]}}}`);
  }

  private segmentSlice(t: PeTrack, seg: PeSegment, end: number, id: string): void {
    const from = Math.max(seg.from, t.lastEnd);
    const to = Math.max(end, from);
    t.lastEnd = to;
    const args = `"state":${q(seg.state)},"since_seq":${seg.seq},"observed":${seg.observed},"container":${q(id)}`;
    this.emit(`{"ph":"X","name":${q(seg.state)},"cat":"eeh","pid":${t.pid},"tid":${t.tid},"ts":${micros(from)},"dur":${micros(to - from)},"args":{${args}}}`);
  }
}

