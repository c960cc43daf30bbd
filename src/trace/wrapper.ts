// The wrapper vfiotrace puts around a command it spawns (the private /dev of
// sandbox.ts, the emulation's sysfs, the TUI's output redirection): layers
// of `SHELL -c SCRIPT NAME OWN_ARGS… COMMAND…`, each ending in `exec "$@"`,
// the outermost started by `unshare`. The recording's command line (header
// tag 4) is that whole argv, so a reader can tell how many execs of the
// traced process are the wrapper's before the user's command runs, and which
// processes the wrapper started (mount, mkdir, …): none of that is the
// user's program. docs/recording-format.md describes the convention.

import { ProcessEventKind, type RecordingHeader, type TraceRecord } from './events.js';

/**
 * The layers by their $0 name, each with how many of its own arguments
 * follow the name (null: not this layer's shape).
 */
const LAYERS = {
  // N, then N paths to create under /dev.
  'vfiotrace-sandbox': (rest) => (/^[0-9]+$/.test(rest[0] ?? '') ? 1 + Number(rest[0]) : null),
  // The staged sysfs directory.
  'vfiotrace-emulate': () => 1,
  // Nothing: the redirections are in the script.
  'vfiotrace-tui': () => 0,
} satisfies Record<string, (rest: readonly string[]) => number | null>;

export type WrapperLayer = keyof typeof LAYERS;

/** The program that starts the outermost layer in a new mount namespace (one exec of its own). */
const LAUNCHER = 'unshare';
const LAUNCHER_MAX_OPTIONS = 8;

/** `SHELL -c SCRIPT NAME OWN_ARGS… COMMAND…`: one layer that execs COMMAND. */
export function wrapperLayer(shell: string, script: string, name: WrapperLayer, ownArgs: readonly string[], command: readonly string[]): string[] {
  // The recognizer below must read back what is built here.
  if (LAYERS[name]([...ownArgs, ...command]) !== ownArgs.length) throw new Error(`wrapper layer ${name}: unexpected arguments`);
  return [shell, '-c', script, name, ...ownArgs, ...command];
}

/** Index of the command a layer starting at `i` execs, or null when no layer starts there. */
function layerEnd(argv: readonly string[], i: number): number | null {
  if (argv[i + 1] !== '-c' || argv[i + 2] === undefined) return null;
  const name = argv[i + 3] ?? '';
  const own = Object.hasOwn(LAYERS, name) ? LAYERS[name as WrapperLayer](argv.slice(i + 4)) : null;
  if (own === null) return null;
  const next = i + 4 + own;
  // A layer runs a command: none left means the line was cut (or it is not ours).
  return next < argv.length ? next : null;
}

/**
 * The user's command inside vfiotrace's wrapper, and how many execs of the
 * traced process come before it. A command vfiotrace did not wrap is
 * returned whole, with 0.
 */
export function unwrapCommand(argv: readonly string[]): { command: readonly string[]; wrapperExecs: number } {
  let at = 0;
  let execs = 0;
  if (argv[0] === LAUNCHER) {
    let j = 1;
    while (j <= LAUNCHER_MAX_OPTIONS && j < argv.length && layerEnd(argv, j) === null) j++;
    if (argv[j + 3] !== 'vfiotrace-sandbox' || layerEnd(argv, j) === null) return { command: argv, wrapperExecs: 0 };
    at = j;
    execs = 1;
  }
  for (let next = layerEnd(argv, at); next !== null; next = layerEnd(argv, at)) {
    execs++;
    at = next;
  }
  return execs === 0 ? { command: argv, wrapperExecs: 0 } : { command: argv.slice(at), wrapperExecs: execs };
}

/**
 * Tells, event by event in stream order, which events vfiotrace's own
 * wrapper caused: the traced process before it execs the user's command
 * (its start, the wrapper's execs, signals, calls), and every process the
 * wrapper started and their children. The traced process's end (exit,
 * kill, detach) is the command's, whoever was running in it.
 */
export class OwnProcesses {
  private main = -1;
  private execs = 0;
  private readonly own = new Set<number>();
  /** Own processes seen before their start record (a child's first stop can be reported before its parent's fork). */
  private readonly early = new Set<number>();
  /** Every pid with a start record so far. */
  private readonly started = new Set<number>();

  constructor(readonly wrapperExecs: number) {}

  /** For a recording: attached processes have no wrapper; a spawned one is judged by its command line. */
  static forHeader(h: RecordingHeader): OwnProcesses {
    return new OwnProcesses(h.attachedPids.length > 0 ? 0 : unwrapCommand(h.argv).wrapperExecs);
  }

  /** Whether any event can be the wrapper's. */
  get active(): boolean {
    return this.wrapperExecs > 0;
  }

  /** True until the traced process has exec'd the user's command. */
  private get wrapping(): boolean {
    return this.execs <= this.wrapperExecs;
  }

  isOwn(r: TraceRecord): boolean {
    if (this.wrapperExecs === 0 || r.type === 'end') return false;
    const pid = r.pid;
    if (this.main < 0) this.main = pid;
    if (r.type === 'process') {
      switch (r.kind) {
        case ProcessEventKind.Start:
          this.started.add(pid);
          if (pid === this.main) return this.wrapping;
          // Already judged by an event that came before its start: the wrapper's.
          if (this.early.delete(pid)) return true;
          // A pid seen starting again is a new process (pids are reused): its parent decides.
          if (this.own.has(r.other) || (r.other === this.main && this.wrapping)) {
            this.own.add(pid);
            return true;
          }
          this.own.delete(pid);
          return false;
        case ProcessEventKind.Exec:
          if (pid === this.main && this.wrapping) return ++this.execs <= this.wrapperExecs;
          break;
        case ProcessEventKind.Exit:
        case ProcessEventKind.Killed:
        case ProcessEventKind.Detached:
          if (pid === this.main) return false;
          break;
        default:
          break;
      }
    }
    if (pid === this.main) return this.wrapping;
    // Before the user's command runs, every other process is the wrapper's,
    // even one whose events come before its start record.
    if (this.wrapping && !this.own.has(pid) && !this.started.has(pid)) {
      this.own.add(pid);
      this.early.add(pid);
    }
    return this.own.has(pid);
  }
}
