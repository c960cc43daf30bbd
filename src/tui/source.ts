// Where the UI's events come from: a live trace (spawned or attached) or a
// recording. The UI only sees this interface; src/commands/tui.ts builds it
// from the tracer, the reader, the decoder and the session model.

import type { DecodedEvent, Finding } from '../decode/types.js';
import type { PeTimeline } from '../model/eehTimeline.js';
import type { Loader } from './state/eventStore.js';

/** `all`: every process on the host (`--all`), each from its first call. */
export type SourceMode = 'spawn' | 'attach' | 'all' | 'file';

/** A finding from the sequence audit, reported after the event it is about. */
export interface LateFinding {
  seq: number;
  finding: Finding;
}

export interface SourceSink {
  /** `own`: vfiotrace's own wrapper caused the event (listed only on request). */
  event(ev: DecodedEvent, own?: boolean): void;
  late(f: LateFinding): void;
  /** Something the user should read (a warning, a corrupt record): shown in the status line. */
  note(text: string): void;
}

export interface TuiSource {
  mode: SourceMode;
  /** Target command line or recording path, for the header. */
  title: string;
  /** Live: how calls are captured (bpf, ptrace), for the header. */
  backend?: string;
  pids(): number[];
  /** A process's name (comm) as the stream told it, if it did. */
  processName?(pid: number): string | undefined;
  /** Every process on a host (live `--all`, or such a recording): its pids are strangers, named in the header. */
  hostWide?(): boolean;
  /** Deliver events until the source ends; rejects with a user-facing error. */
  run(sink: SourceSink): Promise<void>;
  /** Stop tracing and leave the target running (called on quit). Idempotent. */
  detach(): void;
  /** Write what was captured so far as a recording; resolves to a short description. */
  write?(path: string): Promise<string>;
  /** VFIO state view (container → groups → devices, …) at the current point. */
  stateLines?(): string[];
  /** The EEH timeline of each PE so far (the `E` view). */
  eehTimelines?(): readonly PeTimeline[];
  /** Re-fetch a full event whose details were dropped from memory. */
  reload?: Loader;
  /** How far a recording has been read (bytes), while it loads; null when unknown (live). */
  progress?(): { read: number; total: number } | null;
}
