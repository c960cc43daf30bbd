// Trace sessions on the native tracer engine (native/include/vftrace.h; its
// koffi binding is nativeLib.ts). The engine runs ptrace (or eBPF) on its own
// thread and writes the recording byte stream into a pipe; here that pipe
// becomes a Node Readable.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { attachFacts, attachHint } from './attachHint.js';
import type { CaptureRule } from './captureRule.js';
import { EndReason, MAX_PAYLOAD_CAP } from './events.js';
import { packageVersion } from '../version.js';
import { loadLib, type NativeLib } from './nativeLib.js';
import { TraceError, type TraceErrorCode } from './traceError.js';

export {
  engineBuildId,
  engineDescription,
  holdPeerFd,
  nativeAvailable,
  nativeEngine,
  nativeLibraryPath,
  notifyBinding,
  packageRoot,
  releasePeerFd,
  samePeerFile,
  signalEventfd,
  type NotifyBinding,
} from './nativeLib.js';
export { TraceError, type TraceErrorCode } from './traceError.js';

export interface TraceOptions {
  /** Spawn mode: the command and its arguments. */
  command?: string[];
  /** Spawn mode: the environment (default: inherit this process's). */
  env?: Record<string, string | undefined>;
  /** Spawn mode: working directory (default: inherit). */
  cwd?: string;
  /** Attach mode: processes to attach to (every thread of each). */
  pids?: number[];
  /** Host-wide mode (`--all`, bpf only): every process on the host, each from its first matching call. */
  allProcesses?: boolean;
  /** Report events of forked children (-f). Spawned children stay traced either way. */
  follow?: boolean;
  /** ioctl type byte to stop on; -1 stops on every ioctl (--all-ioctls). Default 0x3B (VFIO/iommufd). */
  ioctlType?: number;
  /** Global payload cap in bytes (-s), 0 to 64 MiB; 0 captures nothing. Default 4096. */
  payloadCap?: number;
  /** Capture rules; a request not listed is recorded without payload. */
  rules: CaptureRule[];
  /** Header TLV "producer". Default "vfiotrace <version>". */
  producer?: string;
  /** Emulation: read end of the verdict pipe (native/include/verdict.h); omitted = off. */
  verdictFd?: number;
  /** Emulation through a seccomp listener: ioctls of this type byte are answered through
   * `TraceSession.notifyHandle` (notifyBinding) instead of stopping the command. Spawn mode only. */
  notifyType?: number;
  /** Capture backend (default ptrace): bpf never stops the tracees, and cannot emulate. */
  backend?: CaptureBackend;
  /** bpf: a 16 KiB ring instead of 8 MiB, so drops can be seen counted (tests). */
  bpfSmallRing?: boolean;
}

/** How calls are captured: ptrace stops (seccomp-filtered when spawning), or eBPF in the kernel. */
export type CaptureBackend = 'ptrace' | 'bpf';

export { MAX_PAYLOAD_CAP };

export interface TraceResult {
  reason: EndReason;
  /** Exit code (reason Exited) or signal number (Killed). */
  status: number;
  /** IOCTL records written. */
  events: bigint;
  /** Tracer error, or the exec failure of a spawned command ("exec CMD: No such file or directory"). */
  error: string | null;
}

export interface TraceSession {
  /** Spawned child's pid, or the first attached pid. */
  readonly pid: number;
  /** Raw recording bytes (header first, then records); ends after the END record. */
  readonly stream: Readable;
  /**
   * Attach mode: detach from every traced thread, leaving them running. Spawn
   * mode: end the command as `end('SIGTERM')` does (a spawned command is
   * never left running untraced: its seccomp filter would make its VFIO
   * ioctls fail with ENOSYS). Safe to call more than once.
   */
  detach(): void;
  /**
   * Spawn mode: send `sig` to the command and every traced descendant, and
   * SIGKILL to whatever is left after a grace (native VFT_END_GRACE_MS); the
   * session ends with the command's status. Attach mode: detach.
   */
  end(sig: NodeJS.Signals | number): void;
  /** Send a signal to the main process (spawn mode forwards SIGINT/SIGTERM/SIGHUP this way). */
  signal(sig: NodeJS.Signals | number): void;
  /** Settles when the tracer thread is done and the stream has been fully read. */
  readonly done: Promise<TraceResult>;
  /** With `notifyType`: the listener's handle for notifyBinding(), to close when done with it. */
  readonly notifyHandle?: number;
}

/** vftrace.h VFT_NOTIFY_ON. */
const VFT_NOTIFY_ON = 0x100;

function nulJoin(items: string[]): Buffer {
  return Buffer.concat(items.map((s) => Buffer.from(`${s}\0`, 'utf8')));
}

function encodeRules(rules: CaptureRule[]): Uint32Array {
  const out = new Uint32Array(Math.max(rules.length, 1) * 5);
  rules.forEach((r, i) => {
    out[i * 5] = r.request >>> 0;
    out[i * 5 + 1] = r.kind;
    out[i * 5 + 2] = r.size >>> 0;
    out[i * 5 + 3] = r.minsz >>> 0;
    out[i * 5 + 4] = r.cap >>> 0;
  });
  return out;
}

function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = os.constants.signals[sig];
  if (n === undefined) throw new TraceError(`unknown signal ${sig}`, 'EINVAL');
  return n;
}

type TraceMode = 'spawn' | 'attach' | 'all';

/** vftrace.h enum vft_mode. */
const MODE_NUMBER: Record<TraceMode, number> = { spawn: 0, attach: 1, all: 2 };

function validate(o: TraceOptions): TraceMode {
  const spawn = o.command !== undefined && o.command.length > 0;
  const attach = o.pids !== undefined && o.pids.length > 0;
  const all = o.allProcesses === true;
  if (Number(spawn) + Number(attach) + Number(all) !== 1) throw new TraceError('give one of: a command to run, pids to attach to, or every process', 'EINVAL');
  if (all && o.backend !== 'bpf') throw new TraceError('tracing every process needs the eBPF backend', 'EINVAL');
  if (attach) {
    for (const p of o.pids ?? []) {
      if (!Number.isInteger(p) || p <= 0) throw new TraceError(`invalid pid ${String(p)}`, 'EINVAL');
      // Node's own children are waited for by libuv, whose waitpid(pid) would
      // also take the ptrace stops meant for the tracer: the tracee would hang.
      if (parentOf(p) === process.pid) {
        throw new TraceError(`cannot attach to ${p}: it is a child of this process`, 'EINVAL');
      }
    }
  }
  const t = o.ioctlType ?? 0x3b;
  if (!Number.isInteger(t) || t < -1 || t > 255) throw new TraceError(`invalid ioctl type ${t}`, 'EINVAL');
  const cap = o.payloadCap ?? 4096;
  if (!Number.isInteger(cap) || cap < 0 || cap > MAX_PAYLOAD_CAP) {
    throw new TraceError(`invalid payload cap ${cap} (0 to 64 MiB)`, 'EINVAL');
  }
  return spawn ? 'spawn' : attach ? 'attach' : 'all';
}

function parentOf(pid: number): number | null {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // gone or not visible: the engine reports it
  }
}

/** EPERM from attaching says one thing for several causes: add the likeliest (attachHint.ts). */
function withAttachHint(msg: string): string {
  const m = /^cannot attach to (\d+): Operation not permitted$/.exec(msg);
  return m ? `${msg}; ${attachHint(attachFacts(Number(m[1])))}` : msg;
}

function classify(msg: string): TraceErrorCode {
  if (/eBPF/.test(msg)) return 'EBPF';
  if (/not permitted|permission denied/i.test(msg)) return 'EPERM';
  if (/no such process/i.test(msg)) return 'ESRCH';
  if (/invalid/i.test(msg)) return 'EINVAL';
  return 'ENATIVE';
}

// While sessions run, Node's main thread (which decodes) stays on one CPU
// apart from where the tracee and the tracer thread alternate at every stop:
// on a 2-CPU machine this alone is worth ~20% per traced call. The tracer
// thread and the child were created before the move and keep the full set.
// VFIOTRACE_NO_AFFINITY=1 leaves scheduling alone.
let sessionsRunning = 0;
function keepApart(lib: NativeLib, delta: 1 | -1): void {
  if (process.env.VFIOTRACE_NO_AFFINITY === '1') return;
  sessionsRunning += delta;
  if (delta > 0 && sessionsRunning === 1) lib.keepCallerApart(0);
  if (delta < 0 && sessionsRunning === 0) lib.keepCallerApart(1);
}

export function startTrace(options: TraceOptions): TraceSession {
  const mode = validate(options);
  const lib = loadLib();
  const err = Buffer.alloc(512);
  const handle = lib.start(engineConfig(options, mode), err, err.length);
  if (!handle) {
    const msg = err.subarray(0, Math.max(0, err.indexOf(0))).toString('utf8') || 'tracer failed to start';
    throw new TraceError(withAttachHint(msg), classify(msg));
  }
  const fd = lib.readFd(handle);
  const pid = lib.mainPid(handle);
  const notifyHandle = options.notifyType === undefined ? undefined : lib.notifyOpen(handle);
  if (notifyHandle !== undefined && notifyHandle < 0) {
    lib.end(handle, os.constants.signals.SIGKILL);
    throw new TraceError(`cannot answer the command's calls: notify handle: errno ${-notifyHandle}`, 'ENATIVE');
  }
  keepApart(lib, +1);
  const stream = new net.Socket({ fd, readable: true, writable: false });
  // Set when the tracer thread ends; the handle is freed soon after, so no call may use it from then on.
  let finished = false;

  const streamEnded = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const joined = waitForEngine(lib, handle, () => (finished = true));
  // The placement ends with the tracer thread, whether or not anyone reads the stream to its end.
  joined.then(
    () => keepApart(lib, -1),
    () => keepApart(lib, -1),
  );
  const done = Promise.all([joined, streamEnded]).then(([r]) => {
    lib.free(handle);
    return r;
  });

  return {
    pid,
    stream,
    done,
    ...(notifyHandle !== undefined ? { notifyHandle } : {}),
    detach() {
      if (!finished) lib.detach(handle);
    },
    end(sig) {
      const n = signalNumber(sig);
      if (!finished) lib.end(handle, n);
    },
    signal(sig) {
      const n = signalNumber(sig);
      if (!finished) lib.signal(handle, n);
    },
  };
}

/** The engine's vft_config for `options` (its fields are declared in nativeLib.ts's koffi struct). */
function engineConfig(options: TraceOptions, mode: TraceMode): Record<string, unknown> {
  const env =
    options.env === undefined
      ? null
      : Object.entries(options.env)
          .filter((e): e is [string, string] => e[1] !== undefined)
          .map(([k, v]) => `${k}=${v}`);
  const pids = new Int32Array(options.pids ?? [0]);
  return {
    abi_version: 3,
    mode: MODE_NUMBER[mode],
    follow_forks: options.follow ? 1 : 0,
    ioctl_type: options.ioctlType ?? 0x3b,
    payload_cap: options.payloadCap ?? 4096,
    out_fd: -1,
    argv: mode === 'spawn' ? nulJoin(options.command ?? []) : null,
    argc: mode === 'spawn' ? (options.command ?? []).length : 0,
    envp: env ? nulJoin(env) : null,
    envc: env ? env.length : 0,
    cwd: options.cwd ?? null,
    pids: mode === 'attach' ? pids : null,
    npids: mode === 'attach' ? pids.length : 0,
    rules: encodeRules(options.rules),
    nrules: options.rules.length,
    producer: options.producer ?? `vfiotrace ${packageVersion()}`,
    verdict_fd: options.verdictFd ?? -1,
    backend: options.backend === 'bpf' ? 1 : 0,
    bpf_flags: options.bpfSmallRing ? 1 : 0,
    notify_type: options.notifyType === undefined ? 0 : VFT_NOTIFY_ON | (options.notifyType & 0xff),
  };
}

/** Waits off the main thread for the engine's tracer thread to end; `finished` is called first, either way. */
function waitForEngine(lib: NativeLib, handle: unknown, finished: () => void): Promise<TraceResult> {
  return new Promise<TraceResult>((resolve, reject) => {
    const out: Record<string, unknown> = {};
    lib.wait.async(handle, out, (e: unknown) => {
      finished();
      if (e) {
        reject(new TraceError(`tracer wait failed: ${String(e)}`, 'ENATIVE'));
        return;
      }
      const text = typeof out.text === 'string' ? out.text : '';
      resolve({
        reason: Number(out.reason) as EndReason,
        status: Number(out.status),
        events: BigInt(out.events as number | bigint),
        error: text.length > 0 ? text : null,
      });
    });
  });
}
