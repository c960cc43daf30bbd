// The emulated kernel wired to this host's processes: the client's memory
// through /proc/PID/mem, its eventfds signalled and its open files compared
// by the engine (kcmp). One definition for both ways a session answers
// calls: in Node's main thread (ptrace stops) or in the answering worker
// (seccomp listener).

import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import { holdPeerFd, releasePeerFd, samePeerFile, signalEventfd } from '../trace/native.js';
import type { EehRule } from './eehScript.js';
import { kcmpIdentity } from './files.js';
import { EmulatedKernel } from './kernel.js';
import type { Profile } from './profile.js';

/** The traced command runs on this host: its byte order is ours. */
export const HOST_LE = os.endianness() === 'LE';

/** What a session's kernel is made of; plain data, so a worker can be given it. */
export interface MachineSpec {
  profile: Profile;
  /** Further functions of the machine, each in a group of its own. */
  more: readonly Profile[];
  eeh: readonly EehRule[];
  /** Where the devices' backing files go. */
  backingDir: string;
}

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

export function hostKernel(m: MachineSpec): EmulatedKernel {
  return new EmulatedKernel({
    profile: m.profile,
    more: m.more,
    eeh: m.eeh,
    backingDir: m.backingDir,
    littleEndian: HOST_LE,
    // An eventfd the client closed meanwhile just stays unsignalled, as in the kernel.
    signalEventfd: (pid, fd) => void signalEventfd(pid, fd),
    // Containers are open files: a dup or an inherited fd is the same one.
    identity: kcmpIdentity({ hold: holdPeerFd, same: samePeerFile, release: releasePeerFd }),
    readMemory: readTraceeMemory,
  });
}
