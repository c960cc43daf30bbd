// Binding to the native tracer engine (native/include/vftrace.h) via koffi.
// The engine runs ptrace on its own thread and writes the recording byte
// stream into a pipe; here that pipe becomes a Node Readable.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { attachFacts, attachHint } from './attachHint.js';
import type { CaptureRule } from './captureRule.js';
import { EndReason, MAX_PAYLOAD_CAP } from './events.js';
import { packageVersion } from '../version.js';
import { findNative, PREBUILT_GLIBC, type NativeFile } from './platform.js';

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

/** EBPF: the eBPF backend could not load or attach here (the ptrace backend may still work). */
export type TraceErrorCode = 'ENOLIB' | 'EINVAL' | 'ESRCH' | 'EPERM' | 'ENATIVE' | 'EBPF';

export class TraceError extends Error {
  constructor(
    message: string,
    readonly code: TraceErrorCode,
  ) {
    super(message);
    this.name = 'TraceError';
  }
}

/** Root of the installed package (holds package.json), from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  throw new TraceError('cannot locate the vfiotrace package root', 'ENOLIB');
}

/** The engine this process loads: the clone's own build, else the prebuilt one for this arch (platform.ts). */
export function nativeEngine(): NativeFile {
  const found = findNative(packageRoot(), 'engine');
  if ('error' in found) throw new TraceError(found.error, 'ENOLIB');
  return found.file;
}

export function nativeLibraryPath(): string {
  return nativeEngine().path;
}

/* ---------- koffi binding ---------- */

interface NativeLib {
  start(cfg: Record<string, unknown>, err: Buffer, errlen: number): unknown;
  readFd(s: unknown): number;
  mainPid(s: unknown): number;
  detach(s: unknown): number;
  end(s: unknown, sig: number): number;
  signal(s: unknown, sig: number): number;
  wait: { async(s: unknown, out: Record<string, unknown>, cb: (err: unknown, rc: number) => void): void };
  free(s: unknown): void;
  keepCallerApart(restore: number): number;
  version(): string;
  buildId(): string;
  eventfdSignal(pid: number, fd: number, value: bigint): number;
  peerFdHold(pid: number, fd: number): number;
  peerFdSame(pid: number, fd: number, mine: number): number;
  peerFdRelease(mine: number): void;
  notifyOpen(s: unknown): number;
  notifyNext(h: number, msg: Uint8Array, cap: number, timeoutMs: number): number;
  notifyAnswer(h: number, verdict: Uint8Array, len: number): number;
  notifyAnswerNext(h: number, verdict: Uint8Array, len: number, msg: Uint8Array, cap: number, timeoutMs: number): number;
  notifyWake(h: number): number;
  notifyClose(h: number): void;
}

let cached: NativeLib | null = null;

function loadLib(): NativeLib {
  if (cached) return cached;
  const engine = nativeEngine();
  const require = createRequire(import.meta.url);
  // koffi ships CommonJS; its typings are loose, so keep them inside this file.
  const koffi = require('koffi') as {
    load(p: string): { func(sig: string): (...a: unknown[]) => unknown };
    struct(name: string, def: Record<string, unknown>): unknown;
    array(t: string, n: number, hint?: string): unknown;
    opaque(name: string): unknown;
    pointer(t: unknown): unknown;
    out(t: unknown): unknown;
  };
  let lib;
  try {
    lib = koffi.load(engine.path);
  } catch (e) {
    throw new TraceError(`cannot load the tracer engine ${engine.relative}: ${loadFailure(e)}`, 'ENOLIB');
  }
  koffi.opaque('vft_session');
  koffi.struct('vft_config', {
    abi_version: 'uint32',
    mode: 'int32',
    follow_forks: 'int32',
    ioctl_type: 'int32',
    payload_cap: 'uint32',
    out_fd: 'int32',
    argv: 'const uint8_t *',
    argc: 'uint32',
    envp: 'const uint8_t *',
    envc: 'uint32',
    cwd: 'const char *',
    pids: 'const int32_t *',
    npids: 'uint32',
    rules: 'const uint32_t *',
    nrules: 'uint32',
    producer: 'const char *',
    verdict_fd: 'int32',
    backend: 'int32',
    bpf_flags: 'uint32',
    notify_type: 'uint32',
  });
  koffi.struct('vft_result', {
    reason: 'int32',
    status: 'int32',
    events: 'uint64',
    text: koffi.array('char', 256, 'String'),
  });
  const f = (sig: string) => lib.func(sig);
  cached = {
    start: f('vft_session *vft_start(const vft_config *cfg, uint8_t *err, size_t errlen)') as NativeLib['start'],
    readFd: f('int vft_read_fd(const vft_session *s)') as NativeLib['readFd'],
    mainPid: f('int vft_main_pid(const vft_session *s)') as NativeLib['mainPid'],
    detach: f('int vft_detach(vft_session *s)') as NativeLib['detach'],
    end: f('int vft_end(vft_session *s, int sig)') as NativeLib['end'],
    signal: f('int vft_signal(vft_session *s, int sig)') as NativeLib['signal'],
    wait: f('int vft_wait(vft_session *s, _Out_ vft_result *out)') as unknown as NativeLib['wait'],
    free: f('void vft_free(vft_session *s)') as NativeLib['free'],
    keepCallerApart: f('int vft_keep_caller_apart(int restore)') as NativeLib['keepCallerApart'],
    version: f('const char *vft_version(void)') as NativeLib['version'],
    buildId: f('const char *vft_build_id(void)') as NativeLib['buildId'],
    eventfdSignal: f('int vft_eventfd_signal(int pid, int fd, uint64_t value)') as NativeLib['eventfdSignal'],
    peerFdHold: f('int vft_peer_fd_hold(int pid, int fd)') as NativeLib['peerFdHold'],
    peerFdSame: f('int vft_peer_fd_same(int pid, int fd, int mine)') as NativeLib['peerFdSame'],
    peerFdRelease: f('void vft_peer_fd_release(int mine)') as NativeLib['peerFdRelease'],
    notifyOpen: f('int vft_notify_open(vft_session *s)') as NativeLib['notifyOpen'],
    notifyNext: f('int vft_notify_next(int h, uint8_t *msg, uint32_t cap, int timeout_ms)') as NativeLib['notifyNext'],
    notifyAnswer: f('int vft_notify_answer(int h, const uint8_t *verdict, uint32_t len)') as NativeLib['notifyAnswer'],
    notifyAnswerNext: f('int vft_notify_answer_next(int h, const uint8_t *verdict, uint32_t len, uint8_t *msg, uint32_t cap, int timeout_ms)') as NativeLib['notifyAnswerNext'],
    notifyWake: f('int vft_notify_wake(int h)') as NativeLib['notifyWake'],
    notifyClose: f('void vft_notify_close(int h)') as NativeLib['notifyClose'],
  };
  return cached;
}

/** dlopen's reason on one line, with this system's C library when that is the likely cause. */
function loadFailure(e: unknown): string {
  const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  if (!/GLIBC_|libc\.so|No such file/.test(why)) return why;
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  const libc = glibc !== undefined ? `glibc ${glibc}` : 'no glibc';
  return `${why} (prebuilt engines need glibc ${PREBUILT_GLIBC} or later; this system has ${libc})`;
}

/** The engine's version, build id and file, or why there is none; for --version. */
export function engineDescription(): string {
  try {
    const lib = loadLib();
    return `${lib.version()}, build ${lib.buildId()}, ${nativeEngine().relative}`;
  } catch (e) {
    return `unavailable: ${(e as Error).message}`;
  }
}

/** The engine's build id (vft_build_id). */
export function engineBuildId(): string {
  return loadLib().buildId();
}

/** Adds 1 to eventfd `fd` of process `pid` (an interrupt the emulated kernel
 * raises). Returns 0 or -errno. */
export function signalEventfd(pid: number, fd: number): number {
  return loadLib().eventfdSignal(pid, fd, 1n);
}

/** A reference of ours to the open file process `pid` holds as `fd` (an fd
 * of this process, to close when done), or -errno. */
export function holdPeerFd(pid: number, fd: number): number {
  return loadLib().peerFdHold(pid, fd);
}

/** Whether `pid`'s `fd` is the open file our `mine` refers to: 1, 0, or -errno. */
export function samePeerFile(pid: number, fd: number, mine: number): number {
  return loadLib().peerFdSame(pid, fd, mine);
}

/** vftrace.h VFT_NOTIFY_ON. */
const VFT_NOTIFY_ON = 0x100;

/** The engine's seccomp-listener calls (vftrace.h vft_notify_*), for the thread that answers them. */
export interface NotifyBinding {
  /** Length of the notice written into msg, 0 for none, < 0 (-errno) once over. */
  next(h: number, msg: Uint8Array, timeoutMs: number): number;
  answer(h: number, verdict: Uint8Array): number;
  /** answer, then next: one crossing into the engine per call. */
  answerNext(h: number, verdict: Uint8Array, msg: Uint8Array, timeoutMs: number): number;
  wake(h: number): number;
  close(h: number): void;
}

export function notifyBinding(): NotifyBinding {
  const lib = loadLib();
  return {
    next: (h, msg, timeoutMs) => lib.notifyNext(h, msg, msg.length, timeoutMs),
    answer: (h, verdict) => lib.notifyAnswer(h, verdict, verdict.length),
    answerNext: (h, verdict, msg, timeoutMs) => lib.notifyAnswerNext(h, verdict, verdict.length, msg, msg.length, timeoutMs),
    wake: (h) => lib.notifyWake(h),
    close: (h) => lib.notifyClose(h),
  };
}

/** Gives back a reference from holdPeerFd (fds the engine opened are closed by it:
 * Node's fs would warn of closing a file it never opened, in a worker). */
export function releasePeerFd(mine: number): void {
  loadLib().peerFdRelease(mine);
}

/** True when the native library exists (tests use it to skip with a message). */
export function nativeAvailable(): boolean {
  try {
    return existsSync(nativeLibraryPath());
  } catch {
    return false;
  }
}

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
  const env =
    options.env === undefined
      ? null
      : Object.entries(options.env)
          .filter((e): e is [string, string] => e[1] !== undefined)
          .map(([k, v]) => `${k}=${v}`);
  const pids = new Int32Array(options.pids ?? [0]);
  const cfg = {
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
  const err = Buffer.alloc(512);
  const handle = lib.start(cfg, err, err.length);
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
  let finished = false;

  const streamEnded = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const joined = new Promise<TraceResult>((resolve, reject) => {
    const out: Record<string, unknown> = {};
    lib.wait.async(handle, out, (e: unknown) => {
      finished = true;
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
