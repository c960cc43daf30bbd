// A live trace whose VFIO ioctls are answered by the emulated kernel: the
// command runs in the emulation sandbox, the engine stops each captured call
// and asks for a verdict, the kernel model decides, the engine applies it.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { holdPeerFd, samePeerFile, signalEventfd, startTrace, type TraceOptions, type TraceSession } from '../trace/native.js';
import { DEVICE_ANON } from '../decode/fdtable.js';
import type { IoctlRecord } from '../trace/events.js';
import type { EehRule } from './eehScript.js';
import { kcmpIdentity } from './files.js';
import { EmulatedKernel } from './kernel.js';
import type { Profile } from './profile.js';
import { buildSysfs, emulationArgv } from './sandbox.js';
import { PendingTap } from './tap.js';
import { RUN, type EmuCall, type Verdict } from './types.js';
import { encodeVerdict, verdictPipe } from './wire.js';

const LE = os.endianness() === 'LE';

/** The client's memory through /proc/PID/mem (the tracer may read it): null when unmapped. */
function readTraceeMemory(pid: number, addr: bigint, len: number): Uint8Array | null {
  let fd = -1;
  try {
    fd = openSync(`/proc/${pid}/mem`, 'r');
    const buf = new Uint8Array(len);
    return readSync(fd, buf, 0, len, addr) === len ? buf : null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface EmulationSetup {
  profile: Profile;
  /** Further functions of the machine, each in a group of its own. */
  more?: readonly Profile[];
  eeh?: readonly EehRule[];
  /** Called for every verdict given (the TUI and tests watch these). */
  onVerdict?: (call: EmuCall, verdict: Verdict) => void;
}

export interface EmulatedSession extends TraceSession {
  readonly kernel: EmulatedKernel;
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

/**
 * Starts `opts.command` under emulation (the command is wrapped in the
 * emulation sandbox here). Same contract as startTrace. `stream` is the
 * engine's with two changes: no PENDING records (each carried its call's
 * payload whole, for the emulated kernel, whatever -s says; the IOCTL record
 * keeps what -s allows), and the device fd named as the kernel names it
 * (anon_inode:[vfio-device]), not by its backing file's random path.
 */
export function startEmulatedTrace(opts: TraceOptions, setup: EmulationSetup): EmulatedSession {
  if (!opts.command || opts.command.length === 0) throw new Error('emulation runs a command (no -p)');
  const dir = mkdtempSync(join('/dev/shm', 'vfiotrace-emu-'));
  let kernel: EmulatedKernel | null = null;
  let fds: [number, number] | null = null;
  const cleanup = (): void => {
    kernel?.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The traced command runs on this host: its byte order is ours.
    kernel = new EmulatedKernel({
      profile: setup.profile,
      more: setup.more ?? [],
      eeh: setup.eeh ?? [],
      backingDir: dir,
      littleEndian: LE,
      // An eventfd the client closed meanwhile just stays unsignalled, as in the kernel.
      signalEventfd: (pid, fd) => void signalEventfd(pid, fd),
      // Containers are open files: a dup or an inherited fd is the same one.
      identity: kcmpIdentity({ hold: holdPeerFd, same: samePeerFile }),
      readMemory: readTraceeMemory,
    });
    const functions = kernel.functions;
    buildSysfs(join(dir, 'sys'), functions.map((f) => f.profile), undefined, undefined, functions.map((f) => f.backing.path));
    fds = verdictPipe();
    // Children are always followed: a forked client's ioctls must be answered too.
    const session = startTrace({ ...opts, follow: true, command: emulationArgv(opts.command, functions.map((f) => f.profile), join(dir, 'sys')), verdictFd: fds[0] });
    const k = kernel;
    const [rfd, wfd] = fds;
    let open = true;
    let wfdOpen = true;
    const closeVerdicts = (): void => {
      open = false;
      if (wfdOpen) closeSync(wfd);
      wfdOpen = false;
    };
    const tap = new PendingTap((rec) => {
      const call = callFromRecord(rec);
      let v: Verdict;
      try {
        v = k.handle(call);
      } catch (e) {
        // A model bug must not wedge the tracee: let the real kernel answer.
        process.stderr.write(`vfiotrace emulate: internal error on ${rec.fdPath}: ${(e as Error).message}\n`);
        v = RUN;
      }
      setup.onVerdict?.(call, v);
      if (!open) return;
      const msg = encodeVerdict(v, LE);
      try {
        for (let o = 0; o < msg.length; ) o += writeSync(wfd, msg, o);
      } catch {
        open = false;
      }
    }, (pid, parent) => {
      if (parent !== 0) k.fork(parent, pid);
    }, () => {
      // The reader stopped reading (an output error destroys the stream):
      // no verdict would come, so the engine is told at once (EOF on the
      // verdict pipe; the real kernel answers while the command is ended),
      // and the rest of the engine's stream drains.
      if (session.stream.readableEnded) return;
      closeVerdicts();
      session.stream.unpipe(tap);
      session.stream.resume();
    }, { dropPending: true, rename: new Map(k.functions.map((f) => [f.backing.path, DEVICE_ANON])) });
    session.stream.pipe(tap);
    const done = session.done.finally(() => {
      closeVerdicts();
      closeSync(rfd);
      cleanup();
    });
    return {
      pid: session.pid,
      stream: tap,
      done,
      detach: () => session.detach(),
      end: (s) => session.end(s),
      signal: (s) => session.signal(s),
      kernel: k,
    };
  } catch (e) {
    if (fds) {
      closeSync(fds[0]);
      closeSync(fds[1]);
    }
    cleanup();
    throw e;
  }
}
