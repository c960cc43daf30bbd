// Why PTRACE_SEIZE said EPERM, from what /proc shows: the kernel gives one
// errno for several causes (another tracer, a kernel thread, Yama's
// ptrace_scope, another user's process), and the user needs to know which.

import { readFileSync } from 'node:fs';

export interface AttachFacts {
  pid: number;
  /** The target's TracerPid: the tracing thread's id, 0 when untraced. */
  tracerTid: number;
  /** The process that thread belongs to, and its name, when readable. */
  tracerPid: number | null;
  tracerComm: string | null;
  kernelThread: boolean;
  /** The target's real uid. */
  uid: number | null;
  /** This process: its pid, effective uid, and whether it holds CAP_SYS_PTRACE. */
  selfPid: number;
  selfUid: number;
  selfCanPtrace: boolean;
  /** kernel.yama.ptrace_scope, or null without Yama. */
  ptraceScope: number | null;
}

const CAP_SYS_PTRACE = 19n;
const PF_KTHREAD = 0x00200000;

/** The likeliest cause of an EPERM attaching to f.pid, in one clause. */
export function attachHint(f: AttachFacts): string {
  if (f.pid === f.selfPid) return 'that is vfiotrace itself';
  if (f.tracerTid !== 0) {
    const who = f.tracerPid === f.selfPid ? 'this vfiotrace' : `process ${f.tracerPid ?? f.tracerTid}${f.tracerComm ? ` (${f.tracerComm})` : ''}`;
    return `already traced by ${who}, and a process can have only one tracer (TracerPid in /proc/${f.pid}/status)`;
  }
  if (f.kernelThread) return `${f.pid} is a kernel thread, which cannot be traced`;
  if (f.ptraceScope === 3) return 'kernel.yama.ptrace_scope is 3: attaching is disabled until reboot';
  if (!f.selfCanPtrace) {
    if (f.ptraceScope === 2) return 'kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may attach (run vfiotrace as root)';
    if (f.uid !== null && f.uid !== f.selfUid) return `it runs as uid ${f.uid}: run vfiotrace as root or as that user`;
    if (f.ptraceScope === 1) {
      return 'kernel.yama.ptrace_scope is 1: without CAP_SYS_PTRACE only an ancestor may attach (run vfiotrace as root, or set kernel.yama.ptrace_scope=0)';
    }
    return 'it may be a setuid program, which only a process with CAP_SYS_PTRACE may attach to (run vfiotrace as root)';
  }
  return 'a security module (AppArmor, SELinux) may forbid it';
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function statusField(status: string | null, name: string): string | null {
  if (status === null) return null;
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? null;
}

/** What /proc tells about pid and about this process. */
export function attachFacts(pid: number): AttachFacts {
  const status = read(`/proc/${pid}/status`);
  const tracerTid = Number(statusField(status, 'TracerPid') ?? 0);
  const tracerStatus = tracerTid > 0 ? read(`/proc/${tracerTid}/status`) : null;
  const tgid = statusField(tracerStatus, 'Tgid');
  const tracerPid = tgid !== null ? Number(tgid) : null;
  const tracerComm = tracerPid !== null ? (read(`/proc/${tracerPid}/comm`)?.trim() ?? null) : null;
  const stat = read(`/proc/${pid}/stat`);
  // Fields after the command name, from state (field 3): flags is field 9.
  const flags = stat !== null ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6] ?? 0) : 0;
  const uid = statusField(status, 'Uid');
  const capEff = statusField(read('/proc/self/status'), 'CapEff');
  const scope = read('/proc/sys/kernel/yama/ptrace_scope');
  return {
    pid,
    tracerTid,
    tracerPid,
    tracerComm,
    kernelThread: (flags & PF_KTHREAD) !== 0,
    uid: uid !== null ? Number(uid.split(/\s+/)[0]) : null,
    selfPid: process.pid,
    selfUid: typeof process.geteuid === 'function' ? process.geteuid() : -1,
    selfCanPtrace: capEff !== null && ((BigInt(`0x${capEff}`) >> CAP_SYS_PTRACE) & 1n) === 1n,
    ptraceScope: scope !== null ? Number(scope.trim()) : null,
  };
}
