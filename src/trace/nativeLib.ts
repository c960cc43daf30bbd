// The native tracer engine as a library: where its file is, loading it
// through koffi with the C signatures of native/include/vftrace.h, and the
// engine's small calls (version, peer fds, the seccomp listener). Separate
// from native.ts, which starts and runs trace sessions on top of it.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNative, PREBUILT_GLIBC, type NativeFile } from './platform.js';
import { TraceError } from './traceError.js';

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

export interface NativeLib {
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

/** The engine's functions, loaded on first use. */
export function loadLib(): NativeLib {
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
