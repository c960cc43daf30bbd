// A live trace whose VFIO ioctls are answered by the emulated kernel: the
// command runs in the emulation sandbox and each captured call is answered
// one of two ways (docs/emulation.md, "How calls are answered"):
//   notify  the engine's seccomp listener hands the call to a worker thread
//           holding the kernel (notifySession.ts); no ptrace stop;
//   ptrace  the engine stops the call, writes a PENDING record, and Node's
//           main thread (holding the kernel) sends a verdict back on a pipe.
// notify is the default; ptrace runs where a listener cannot be had.

import { closeSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VFIO_TYPE } from '../decode/encoding.js';
import { DEVICE_ANON } from '../decode/fdtable.js';
import { startTrace, TraceError, type TraceOptions, type TraceResult, type TraceSession } from '../trace/native.js';
import type { IoctlRecord } from '../trace/events.js';
import { backingPath } from './backing.js';
import type { EehRule } from './eehScript.js';
import { HOST_LE, hostKernel, type MachineSpec } from './hostKernel.js';
import { checkMachine, type EmulatedKernel } from './kernel.js';
import { AnsweringWorker, type PeControl } from './notifySession.js';
import type { Profile } from './profile.js';
import { buildSysfs, emulationArgv } from './sandbox.js';
import { PendingTap } from './tap.js';
import { RUN, type EmuCall, type Verdict } from './types.js';
import { encodeVerdict, verdictPipe } from './wire.js';

/** How calls are answered: through the engine's seccomp listener, or at ptrace stops. */
export type EmulationPath = 'notify' | 'ptrace';

export interface EmulationSetup {
  profile: Profile;
  /** Further functions of the machine, each in a group of its own. */
  more?: readonly Profile[];
  eeh?: readonly EehRule[];
  /** Default: notify, else ptrace where the listener cannot be had (said on stderr). */
  via?: EmulationPath;
}

export interface EmulatedSession extends TraceSession {
  /** The machine's first PE, as the main thread may drive it. */
  readonly pe: PeControl;
  /** How this session's calls are answered. */
  readonly via: EmulationPath;
}

export function callFromRecord(r: IoctlRecord): EmuCall {
  return {
    pid: r.pid,
    tid: r.tid,
    fd: Number(BigInt.asIntN(32, r.fd)),
    fdPath: r.fdPath,
    request: Number(r.request & 0xffffffffn),
    arg: r.arg,
    entry: r.entry,
    inFault: r.inFault,
  };
}

/** The largest payload the emulated kernel is given: the largest rule's cap, or -s if larger. */
function readCapOf(opts: TraceOptions): number {
  return opts.rules.reduce((m, r) => Math.max(m, r.cap), opts.payloadCap ?? 4096);
}

const internalError = (path: string, message: string): void =>
  void process.stderr.write(`vfiotrace emulate: internal error on ${path}: ${message}\n`);

/**
 * Starts `opts.command` under emulation (the command is wrapped in the
 * emulation sandbox here). Same contract as startTrace. `stream` is the
 * engine's with the device fd named as the kernel names it
 * (anon_inode:[vfio-device]), not by its backing file's random path, and
 * without the ptrace path's PENDING records (each carried its call's payload
 * whole, for the emulated kernel, whatever -s says).
 */
export function startEmulatedTrace(opts: TraceOptions, setup: EmulationSetup): EmulatedSession {
  if (!opts.command || opts.command.length === 0) throw new Error('emulation runs a command (no -p)');
  const profiles = [setup.profile, ...(setup.more ?? [])];
  checkMachine(profiles, setup.eeh ?? []);
  const dir = mkdtempSync(join('/dev/shm', 'vfiotrace-emu-'));
  const machine: MachineSpec = { profile: setup.profile, more: setup.more ?? [], eeh: setup.eeh ?? [], backingDir: dir };
  const devices = profiles.map((p) => backingPath(dir, p));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    buildSysfs(join(dir, 'sys'), profiles, undefined, undefined, devices);
    // Children are always followed: a forked client's ioctls must be answered too.
    const traced: TraceOptions = { ...opts, follow: true, command: emulationArgv(opts.command, profiles, join(dir, 'sys')) };
    const rename = new Map(devices.map((d) => [d, DEVICE_ANON]));
    if (setup.via !== 'ptrace') {
      const s = tryNotify(traced, machine, rename, removeDir, setup.via === 'notify');
      if (s) return s;
    }
    const kernel = hostKernel(machine);
    return viaPtrace(traced, kernel, rename, () => {
      kernel.dispose();
      removeDir();
    });
  } catch (e) {
    removeDir();
    throw e;
  }
}

/**
 * The session answered through the engine's seccomp listener, or null when
 * the engine cannot have one here (said on stderr, unless `required`, which
 * throws instead).
 */
function tryNotify(traced: TraceOptions, machine: MachineSpec, rename: ReadonlyMap<string, string>, cleanup: () => void, required: boolean): EmulatedSession | null {
  const worker = new AnsweringWorker(machine, readCapOf(traced), internalError);
  let session: TraceSession;
  try {
    session = startTrace({ ...traced, notifyType: VFIO_TYPE });
  } catch (e) {
    worker.abandon();
    if (!(e instanceof TraceError) || !/seccomp listener/.test(e.message) || required) throw e;
    process.stderr.write(`vfiotrace emulate: ${e.message}; answering at ptrace stops instead (slower)\n`);
    return null;
  }
  worker.begin(session.notifyHandle!);
  const tap: PendingTap = new PendingTap(() => undefined, undefined, () => drainUnread(session, tap), { rename });
  session.stream.pipe(tap);
  void worker.ended.then((failure) => {
    if (failure === null) return;
    // Nobody answers any more: end the command rather than leave it waiting.
    process.stderr.write(`vfiotrace emulate: the emulated kernel stopped: ${failure}\n`);
    session.end('SIGKILL');
  });
  const done = Promise.all([session.done, worker.ended]).then(([r]) => r).finally(cleanup);
  return emulated(session, tap, done, worker.pe, 'notify');
}

/** The session as its caller sees it: the tap's stream, and what `done` waits for. */
function emulated(session: TraceSession, tap: PendingTap, done: Promise<TraceResult>, pe: PeControl, via: EmulationPath): EmulatedSession {
  return {
    pid: session.pid,
    stream: tap,
    done,
    detach: () => session.detach(),
    end: (sig) => session.end(sig),
    signal: (sig) => session.signal(sig),
    pe,
    via,
  };
}

/** The reader stopped reading (an output error destroys the tap): the rest of the engine's stream drains unread. */
function drainUnread(session: TraceSession, tap: PendingTap): void {
  if (session.stream.readableEnded) return;
  session.stream.unpipe(tap);
  session.stream.resume();
}

/** The session answered at ptrace stops, by `kernel` on this thread. */
function viaPtrace(traced: TraceOptions, kernel: EmulatedKernel, rename: ReadonlyMap<string, string>, cleanup: () => void): EmulatedSession {
  const [rfd, wfd] = verdictPipe();
  let session: TraceSession;
  try {
    session = startTrace({ ...traced, verdictFd: rfd });
  } catch (e) {
    closeSync(rfd);
    closeSync(wfd);
    throw e;
  }
  let open = true;
  const closeVerdicts = (): void => {
    if (open) closeSync(wfd);
    open = false;
  };
  const tap = new PendingTap((rec) => {
    const call = callFromRecord(rec);
    let v: Verdict;
    try {
      v = kernel.handle(call);
    } catch (e) {
      // A model bug must not wedge the tracee: let the real kernel answer.
      internalError(rec.fdPath, (e as Error).message);
      v = RUN;
    }
    if (!open) return;
    const msg = encodeVerdict(v, HOST_LE);
    try {
      for (let o = 0; o < msg.length; ) o += writeSync(wfd, msg, o);
    } catch {
      open = false;
    }
  }, (pid, parent) => {
    if (parent !== 0) kernel.fork(parent, pid);
  }, () => {
    // The reader stopped reading (an output error destroys the stream):
    // no verdict would come, so the engine is told at once (EOF on the
    // verdict pipe; the real kernel answers while the command is ended).
    if (!session.stream.readableEnded) closeVerdicts();
    drainUnread(session, tap);
  }, { dropPending: true, rename });
  session.stream.pipe(tap);
  const done = session.done.finally(() => {
    closeVerdicts();
    closeSync(rfd);
    cleanup();
  });
  const pe = kernel.pe;
  const control: PeControl = { freeze: async (reason, permanent) => pe.freeze(reason, permanent), onOp: (fn) => pe.onOp(fn), onChange: (fn) => pe.onChange(fn) };
  return emulated(session, tap, done, control, 'ptrace');
}
