// The two TuiSources: a live trace (spawned or attached) and a recording file.
// Both run the bytes through the shared pipeline, feed the auditor (which
// also keeps the session model for the state view), and keep a recording on
// disk — the file itself, or a spool the live stream is copied into — so
// `w` can save it and the detail pane can re-read events dropped from memory.

import { closeSync, constants, copyFileSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DecodedEvent, FdKind } from '../decode/types.js';
import type { PeTimeline } from '../model/eehTimeline.js';
import type { RecordingHeader, TraceRecord } from '../trace/events.js';
import { MAX_RECORD_LEN, parseHeader, RecordingParser } from '../trace/reader.js';
import type { TraceSession } from '../trace/native.js';
import { OwnProcesses, unwrapCommand } from '../trace/wrapper.js';
import { ProcessNames } from '../trace/comm.js';
import type { LateFinding, SourceMode, SourceSink, TuiSource } from './source.js';
import { stateLines, type SnapshotLike } from './stateView.js';

/** What the sources need from the rest of vfiotrace (wired in src/commands/tui.ts). */
export interface SourceDeps {
  /**
   * Bytes → decoded event batches; `recordTo` copies the bytes to a file as
   * they pass; `onSkip` hears of a record that could not be decoded.
   */
  open(
    bytes: AsyncIterable<Uint8Array>,
    recordTo: string | undefined,
    onSkip: (offset: number, message: string) => void,
  ): Promise<{ header: RecordingHeader; batches(): AsyncGenerator<DecodedEvent[]>; incomplete?(): string | null }>;
  /** Decode a single record out of context (detail of an event dropped from memory), its fd's kind known. */
  decodeOne(header: RecordingHeader, record: TraceRecord, fdKind: FdKind): DecodedEvent;
  /** -e: events to show (all when null). */
  show: ((ev: DecodedEvent) => boolean) | null;
  /** The auditor: sees every event; reports sequence findings late. */
  audit?: {
    feed(ev: DecodedEvent): void;
    finish(): void;
    snapshot(): SnapshotLike;
    onLate: ((f: LateFinding) => void) | null;
    /** The EEH timeline the session model's EEH ops make. */
    eeh?(): readonly PeTimeline[];
  };
}

/** Reads single records back from a recording on disk, by stream offset. */
export class RecordReader {
  private header: { header: RecordingHeader; bytes: Uint8Array } | null = null;
  constructor(private readonly path: string) {}

  read(offset: number): TraceRecord | null {
    let fd = -1;
    try {
      fd = openSync(this.path, 'r');
      if (!this.header) {
        const head = new Uint8Array(Math.min(65536, statSync(this.path).size));
        readSync(fd, head, 0, head.length, 0);
        const h = parseHeader(head);
        if (!h) return null;
        this.header = { header: h.header, bytes: head.slice(0, h.length) };
      }
      const common = new Uint8Array(8);
      if (readSync(fd, common, 0, 8, offset) !== 8) return null;
      const dv = new DataView(common.buffer);
      const len = dv.getUint32(4, this.header.header.byteOrder === 'le');
      if (len < 8 || len % 8 !== 0 || len > MAX_RECORD_LEN) return null;
      const rec = new Uint8Array(len);
      if (readSync(fd, rec, 0, len, offset) !== len) return null;
      const p = new RecordingParser();
      p.push(this.header.bytes);
      const r = p.push(rec)[0];
      return r ? { ...r, offset } : null;
    } catch {
      return null;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  get recordingHeader(): RecordingHeader | null {
    return this.header?.header ?? null;
  }
}

/** A running process's command line, for the header. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || '?';
  } catch {
    return '?';
  }
}

abstract class BaseSource implements TuiSource {
  abstract mode: SourceMode;
  abstract title: string;
  protected header: RecordingHeader | null = null;
  /**
   * Processes seen in the stream (forked children appear here with -f), the
   * one with the latest event last: host-wide, the header lists the most
   * recently active first.
   */
  protected readonly seen = new Set<number>();
  private readonly names = new ProcessNames();
  protected readonly records: RecordReader;
  constructor(protected readonly deps: SourceDeps, protected readonly diskPath: string) {
    this.records = new RecordReader(diskPath);
  }
  abstract detach(): void;
  protected abstract bytes(): AsyncIterable<Uint8Array>;
  protected abstract recordTo(): string | undefined;

  async run(sink: SourceSink): Promise<void> {
    const audit = this.deps.audit;
    if (audit) audit.onLate = (f) => sink.late(f);
    let skipped = 0;
    const onSkip = (offset: number, message: string) => {
      skipped++;
      sink.note(`${skipped} record(s) could not be decoded; the last at byte ${offset}: ${message}`);
    };
    const p = await this.deps.open(this.bytes(), this.recordTo(), onSkip);
    this.header = p.header;
    this.onHeader(p.header);
    // What vfiotrace's own wrapper did is listed on request only, and is no part of the command's pids, state or audit.
    const wrapper = OwnProcesses.forHeader(p.header);
    let auditing = audit !== undefined;
    try {
      for await (const batch of p.batches()) {
        for (const ev of batch) {
          const own = wrapper.isOwn(ev.record);
          if (!own && ev.kind !== 'end' && ev.pid > 0) this.saw(ev.pid);
          if (ev.kind === 'process') this.names.note(ev.record);
          if (!this.deps.show || this.deps.show(ev)) sink.event(ev, own);
          if (own || !auditing) continue;
          try {
            audit?.feed(ev);
          } catch (e) {
            // The events matter more than the audit: keep showing them.
            auditing = false;
            sink.note(`audit stopped at event #${ev.seq}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        // Let keys and frames in between batches.
        await new Promise<void>((r) => setImmediate(r));
      }
      const incomplete = p.incomplete?.() ?? null;
      if (incomplete !== null) sink.note(incomplete);
    } finally {
      if (auditing) {
        try {
          audit?.finish();
        } catch {
          // End-of-stream rules are best effort once the stream is gone.
        }
      }
    }
  }

  protected onHeader(_h: RecordingHeader): void {}

  private saw(pid: number): void {
    if (!this.hostWide()) this.seen.add(pid);
    else if (this.lastSeen !== pid) {
      // Moved to the end: the Set keeps insertion order.
      this.seen.delete(pid);
      this.seen.add(pid);
      this.lastSeen = pid;
    }
  }
  private lastSeen = 0;

  pids(): number[] {
    if (this.hostWide()) return [...this.seen].reverse();
    return [...new Set([...this.pidList(), ...this.seen])];
  }

  /** The processes named before the stream says anything (-p, the command, the header's attached pids). */
  protected abstract pidList(): readonly number[];

  processName(pid: number): string | undefined {
    return this.names.get(pid);
  }

  hostWide(): boolean {
    return this.mode === 'all' || this.header?.hostWide === true;
  }

  reload = (_index: number, seq: number, offset: number, fdKind: FdKind): DecodedEvent | null => {
    const header = this.header;
    if (!header || offset < 0) return null;
    const r = this.records.read(offset);
    if (!r) return null;
    try {
      // Set in place: a spread copy would drop the lazily built payload trees.
      const ev = this.deps.decodeOne(header, r, fdKind);
      ev.seq = seq;
      return ev;
    } catch {
      return null;
    }
  };

  async write(path: string): Promise<string> {
    if (resolve(path) === resolve(this.diskPath)) throw new Error(`${path} is the file being read`);
    try {
      // Never overwrite: the user may have typed the name of something precious.
      copyFileSync(this.diskPath, path, constants.COPYFILE_EXCL);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(err.code === 'EEXIST' ? `${path} already exists` : `${path}: ${err.code ?? err.message}`);
    }
    const size = statSync(path).size;
    return `wrote ${path} (${size} bytes, everything captured so far)`;
  }

  stateLines(): string[] {
    const a = this.deps.audit;
    return a ? stateLines(a.snapshot()) : ['(no session model)'];
  }

  eehTimelines(): readonly PeTimeline[] {
    return this.deps.audit?.eeh?.() ?? [];
  }
}

export class FileSource extends BaseSource {
  mode: SourceMode = 'file';
  title: string;
  private attachedPids: number[] = [];
  constructor(deps: SourceDeps, private readonly path: string, private readonly open: (path: string) => AsyncIterable<Uint8Array>) {
    super(deps, path);
    this.title = path;
  }
  private readBytes = 0;
  private totalBytes = 0;
  protected pidList(): readonly number[] { return this.attachedPids; }
  detach(): void {}
  progress(): { read: number; total: number } | null {
    return this.totalBytes > 0 ? { read: this.readBytes, total: this.totalBytes } : null;
  }
  protected bytes(): AsyncIterable<Uint8Array> {
    try {
      this.totalBytes = statSync(this.path).size;
    } catch {
      // The open below reports the file's problem; no progress meanwhile.
    }
    return this.counted(this.open(this.path));
  }
  /** Counts the bytes as they pass (one addition per chunk) for the header's progress. */
  private async *counted(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of src) {
      this.readBytes += chunk.length;
      yield chunk;
    }
  }
  protected recordTo(): string | undefined { return undefined; }
  protected override onHeader(h: RecordingHeader): void {
    this.attachedPids = h.attachedPids.slice();
    const cmd = unwrapCommand(h.argv).command.join(' ');
    const what = h.hostWide ? 'every process' : cmd;
    this.title = `${this.path}${what ? `  (${what})` : ''}  ${h.arch} ${h.hostname}`;
  }
}

export class LiveSource extends BaseSource {
  mode: SourceMode;
  title: string;
  backend?: string;
  private detached = false;
  constructor(deps: SourceDeps, private readonly session: TraceSession, spool: string, o: { command?: string[]; pids?: number[]; allProcesses?: boolean; backend?: string }) {
    super(deps, spool);
    if (o.backend !== undefined) this.backend = o.backend;
    this.mode = o.allProcesses ? 'all' : o.pids ? 'attach' : 'spawn';
    if (o.allProcesses) this.title = 'every process on this host';
    else this.title = o.pids ? `attached to ${o.pids.map((p) => `${p} (${cmdline(p)})`).join(', ')}` : (o.command ?? []).join(' ');
    this.known = o.allProcesses ? [] : (o.pids ?? [session.pid]);
  }
  private readonly known: number[];
  protected pidList(): readonly number[] { return this.known; }
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    try {
      this.session.detach();
    } catch {
      // Already finished: nothing to detach from.
    }
  }
  protected bytes(): AsyncIterable<Uint8Array> { return this.session.stream; }
  protected recordTo(): string | undefined { return this.diskPath; }

  override async run(sink: SourceSink): Promise<void> {
    try {
      await super.run(sink);
    } catch (e) {
      // Nobody reads the stream any more: let go of the target rather than
      // leave it blocked on a full pipe.
      this.detach();
      this.session.stream.resume();
      throw e;
    }
  }
}
