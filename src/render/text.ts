// strace-style text: one line per ioctl, process events as `+++ … +++` and
// `--- SIG… ---`. Everything shown is derived from the event stream alone, so
// rendering a recording gives exactly what the live run printed.

import { payloadText } from './payloadText.js';
import { IoctlEvent } from '../decode/event.js';
import type { DecodedEvent, DecodedIoctl, DecodedProcess, FieldNode, RetInfo, Severity } from '../decode/types.js';
import type { RecordingHeader } from '../trace/events.js';
import { ProcessEventKind } from '../trace/events.js';
import { ProcessNames } from '../trace/comm.js';
import { otherIoctlName } from '../../decoders/otherIoctls.js';
import { colorErrno, colorLines, YELLOW } from './color.js';
import { escapeRaw } from './escape.js';
import { flat } from './flat.js';
import { errnoMessage, signalName } from './names.js';
import { renderEntry, renderExit } from './payload.js';

export type FindingLevel = Severity | 'none';

export interface TextOptions {
  /** -t, -tt, -ttt: time of day in seconds, with microseconds, or epoch seconds with microseconds. */
  time: 0 | 1 | 2 | 3;
  /** -T: time spent in the call. */
  duration: boolean;
  /** -y: the fd's path after the number (on by default). */
  fdPaths: boolean;
  /** Lowest finding severity printed under a line; 'none' hides findings. */
  findings: FindingLevel;
  /** ANSI colour: errno red, findings yellow (--color). */
  color: boolean;
}

export const DEFAULT_TEXT_OPTIONS: TextOptions = {
  time: 0,
  duration: false,
  fdPaths: true,
  findings: 'info',
  color: false,
};

const SIGCHLD = 17;

const SEVERITY_RANK: Record<FindingLevel, number> = { info: 0, warning: 1, error: 2, none: 3 };

function pad(n: number, width: number): string {
  let s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

/** Seconds with microseconds, as strace's -T and -c show them. */
export function formatSeconds(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  return sec + '.' + pad(Math.floor((ns - sec * 1e9) / 1000), 6);
}

export class TextRenderer {
  private readonly opts: TextOptions;
  private readonly minFinding: number;
  /** Tids alive in the trace: `[pid N]` is shown while more than one is (as strace -f does). */
  private readonly live = new Set<number>();
  private readonly pathCache = new Map<string, { fd: number; path: string; text: string }>();
  /**
   * Processes whose exits and signals are worth a line: the traced command,
   * attached processes, and any process that made a call shown here. Children
   * that never touch VFIO (a script's mount, mkdir, …) stay silent; what
   * vfiotrace's own wrapper did never gets here (render/printer.ts).
   */
  private readonly shownPids = new Set<number>();
  private mainSeen = false;
  /** The processes given to -p (the recording header's list). */
  private readonly attached: ReadonlySet<number>;
  /** Host-wide (`--all`): every line names its process, `[pid TID comm]`. */
  private readonly comms: ProcessNames | null;
  // Wall clock of the recording start, split so per-event math stays in doubles.
  private readonly baseSec: number;
  private readonly baseNs: number;
  private readonly tzOffsetSec: number;
  /** The traced ABI, for naming non-VFIO ioctls (numbers differ on powerpc). */
  private readonly arch: string;

  constructor(header: RecordingHeader | null, opts: Partial<TextOptions> = {}) {
    this.opts = { ...DEFAULT_TEXT_OPTIONS, ...opts };
    this.arch = header?.arch ?? 'x86_64';
    this.attached = new Set(header?.attachedPids ?? []);
    this.comms = header?.hostWide === true ? new ProcessNames() : null;
    this.minFinding = SEVERITY_RANK[this.opts.findings];
    const rt = header?.startRealtimeNs ?? 0n;
    this.baseSec = Number(rt / 1_000_000_000n);
    this.baseNs = Number(rt % 1_000_000_000n);
    this.tzOffsetSec = new Date(this.baseSec * 1000).getTimezoneOffset() * 60;
  }

  /** The text for one event, newline-terminated; '' when the event prints nothing. */
  render(ev: DecodedEvent): string {
    if (ev.kind === 'ioctl') return this.ioctl(ev);
    if (ev.kind === 'process') return this.process(ev);
    return '';
  }

  private leader(ev: { pid: number; tid: number; ts: number }): string {
    let s = '';
    if (this.comms !== null) s = '[pid ' + ev.tid + ' ' + commText(this.comms.get(ev.pid) ?? '?') + '] ';
    else if (this.live.size > 1) s = '[pid ' + ev.tid + '] ';
    if (this.opts.time !== 0) s += this.clock(ev.ts) + ' ';
    return s;
  }

  private clock(ts: number): string {
    const ns = this.baseNs + ts;
    const extra = Math.floor(ns / 1e9);
    const sec = this.baseSec + extra;
    const us = Math.floor((ns - extra * 1e9) / 1000);
    if (this.opts.time === 3) return sec + '.' + pad(us, 6);
    let day = (sec - this.tzOffsetSec) % 86400;
    if (day < 0) day += 86400;
    const h = Math.floor(day / 3600);
    const m = Math.floor((day % 3600) / 60);
    const hms = pad(h, 2) + ':' + pad(m, 2) + ':' + pad(day % 60, 2);
    return this.opts.time === 1 ? hms : hms + '.' + pad(us, 6);
  }

  /** `ioctl(FD<PATH>, `, remembered per path for the fd number last seen with it. */
  private opening(ev: DecodedIoctl): string {
    if (!this.opts.fdPaths || ev.fdPath === '') return 'ioctl(' + ev.fd + ', ';
    let p = this.pathCache.get(ev.fdPath);
    if (p === undefined) {
      p = { fd: NaN, path: '<' + escapeRaw(ev.fdPath) + '>', text: '' };
      if (this.pathCache.size > 4096) this.pathCache.clear();
      this.pathCache.set(ev.fdPath, p);
    }
    if (p.fd !== ev.fd) {
      p.fd = ev.fd;
      p.text = flat('ioctl(' + ev.fd + p.path + ', ');
    }
    return p.text;
  }

  private ioctl(ev: DecodedIoctl): string {
    if (!this.live.has(ev.tid)) this.live.add(ev.tid);
    if (!this.shownPids.has(ev.pid)) this.shownPids.add(ev.pid);
    // Calls decoded alike (callMemo.ts) print alike after the fd: built once.
    const ct = ev instanceof IoctlEvent ? ev.sharedText : null;
    let tail: string;
    if (ct === null) tail = tailText(ev, this.arch);
    else if (ct.textTail !== null) tail = ct.textTail;
    else tail = ct.textTail = flat(tailText(ev, this.arch));
    if (this.opts.color) tail = colorErrno(tail);
    let s = this.leader(ev) + this.opening(ev) + tail;
    if (this.opts.duration && ev.dur !== null) s += ' <' + formatSeconds(ev.dur) + '>';
    s += '\n';
    if (ev.findings.length > 0 && this.minFinding < 3) {
      let f: string;
      if (ct === null) f = this.findingsText(ev);
      else {
        if (ct.textFindingsLevel !== this.minFinding) {
          ct.textFindings = flat(this.findingsText(ev));
          ct.textFindingsLevel = this.minFinding;
        }
        f = ct.textFindings as string;
      }
      s += this.opts.color ? colorLines(f, YELLOW) : f;
    }
    return s;
  }

  private findingsText(ev: DecodedIoctl): string {
    const f = ev.findings;
    let s = '';
    for (let i = 0; i < f.length; i++) {
      const x = f[i]!;
      if (SEVERITY_RANK[x.severity] < this.minFinding) continue;
      s += '  ^ ' + x.severity + ' ' + x.rule + ': ' + escapeRaw(x.message) + '\n';
    }
    return s;
  }

  private process(ev: DecodedProcess): string {
    const r = ev.record;
    this.comms?.note(r);
    if (r.kind === ProcessEventKind.Start && (!this.mainSeen || r.other === 0)) this.shownPids.add(ev.pid);
    if (!this.mainSeen) {
      this.mainSeen = true;
      this.shownPids.add(ev.pid); // a stream without START: its first process is the main one
    }
    if (!this.shownPids.has(ev.pid)) {
      if (r.kind === ProcessEventKind.Exit || r.kind === ProcessEventKind.Killed || r.kind === ProcessEventKind.Detached) this.live.delete(ev.tid);
      else if (r.kind !== ProcessEventKind.Signal) this.live.add(ev.tid);
      return '';
    }
    switch (r.kind) {
      case ProcessEventKind.Start:
      case ProcessEventKind.Thread:
        this.live.add(ev.tid);
        // -p: each thread as it is attached (parent/creator 0), as strace
        // says it; a message, so no [pid N] or time before it.
        return r.other === 0 && this.attached.has(ev.pid) ? 'Process ' + ev.tid + ' attached\n' : '';
      case ProcessEventKind.Exec:
        this.live.add(ev.tid);
        return '';
      case ProcessEventKind.Signal:
        // A child's exit is noise next to VFIO calls (a shell script gets one
        // per command it runs); JSON still carries every signal.
        if (r.value === SIGCHLD) return '';
        return this.leader(ev) + '--- ' + signalName(r.value) + ' ---\n';
      case ProcessEventKind.Exit:
        return this.gone(ev, '+++ exited with ' + r.value + ' +++\n');
      case ProcessEventKind.Killed:
        return this.gone(ev, '+++ killed by ' + signalName(r.value) + (r.other === 1 ? ' (core dumped)' : '') + ' +++\n');
      case ProcessEventKind.Detached:
        return this.gone(ev, '+++ detached +++\n');
      default:
        return '';
    }
  }

  private gone(ev: DecodedProcess, text: string): string {
    const s = this.leader(ev) + text;
    this.live.delete(ev.tid);
    return s;
  }
}

export function hex(n: number): string {
  return '0x' + (n >>> 0 === n ? n.toString(16) : BigInt.asUintN(64, BigInt(n)).toString(16));
}

/** `REQUEST, ARG) = RET (…)`: the line after the fd, without -T's duration. */
function tailText(ev: DecodedIoctl, arch: string): string {
  return requestText(ev, arch) + ', ' + argText(ev) + ')' + retText(ev);
}

function requestText(ev: DecodedIoctl, arch: string): string {
  if (ev.ioctl !== null) return ev.ioctl;
  if (ev.candidates.length > 1) return hex(ev.request) + ' /* ambiguous: ' + ev.candidates.join(' or ') + ' */';
  // --all-ioctls: a terminal or fd ioctl by its usual name, as strace shows it.
  return otherIoctlName(arch, ev.request) ?? hex(ev.request);
}

function rootEntry(node: FieldNode): string {
  const v = renderEntry(node);
  if (v === null) return '{}';
  // A pointer to a single integer prints as strace does: [value].
  return node.children === undefined && node.text === undefined ? '[' + v + ']' : v;
}

export function argText(ev: DecodedIoctl): string {
  // Struct payloads straight from the bytes (no tree); the same text as below.
  const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
  if (pl !== null) {
    const t = payloadText(pl, ev.ret.value >= 0);
    let s = t.entry;
    if (s === null) s = rawArg(ev);
    else if (ev.truncated) s = s.length > 2 ? s.slice(0, -1) + ', ...}' : '{...}';
    if (!ev.incomplete && t.exit !== null) s += ' => ' + t.exit;
    return s;
  }
  const inNode = ev.in;
  let s: string;
  if (inNode === null) {
    // No decoded form (an ioctl without argument): the raw value, as strace shows it.
    s = rawArg(ev);
  } else {
    s = rootEntry(inNode);
    if (ev.truncated) s = s.endsWith('}') ? s.slice(0, -1) + (s.length > 2 ? ', ...}' : '...}') : s + '...';
  }
  if (ev.out !== null && !ev.incomplete) {
    const o = renderExit(ev.out, ev.ret.value >= 0);
    if (o !== null) s += ' => ' + (ev.out.children === undefined && ev.out.text === undefined ? '[' + o + ']' : o);
  }
  return s;
}

function rawArg(ev: DecodedIoctl): string {
  return ev.argDisplay !== '' ? ev.argDisplay : ev.record.arg === 0n ? '0' : '0x' + ev.record.arg.toString(16);
}

// The same outcome text repeats across calls: build it once per (value, errno, meaning).
const retCache = new Map<string, string>();

function retText(ev: DecodedIoctl): string {
  if (ev.incomplete) return ' = ?';
  const r = ev.ret;
  const key = r.value + '\0' + (r.errno ?? '') + '\0' + r.meaning;
  let t = retCache.get(key);
  if (t === undefined) {
    t = retTextUncached(r);
    if (retCache.size >= 4096) retCache.clear();
    retCache.set(key, t);
  }
  return t;
}

function retTextUncached(r: RetInfo): string {
  if (r.value >= 0) return r.meaning ? ' = ' + r.value + ' (' + escapeRaw(r.meaning) + ')' : ' = ' + r.value;
  const name = r.errno ?? 'ERRNO_' + -r.value;
  const msg = r.errno !== null ? errnoMessage(r.errno) : undefined;
  let why: string;
  if (msg === undefined) why = r.meaning;
  else if (!r.meaning || r.meaning === msg) why = msg;
  else why = msg + ': ' + r.meaning;
  return why ? ' = -1 ' + name + ' (' + escapeRaw(why) + ')' : ' = -1 ' + name;
}

/** A comm in the `[pid TID comm]` prefix: quoted when a space, quote or ] would make the prefix ambiguous. */
function commText(comm: string): string {
  const s = escapeRaw(comm);
  return /[\s"\]]/.test(s) ? '"' + s.replace(/"/g, '\\"') + '"' : s;
}
