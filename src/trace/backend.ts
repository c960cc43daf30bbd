// Which capture backend a live session runs on (--backend auto|bpf|ptrace).
//
// bpf never stops the traced processes: calls are copied in the kernel at
// ioctl entry and exit. It needs root (or CAP_BPF with CAP_PERFMON) and a
// kernel with the BPF ring buffer, and it cannot change a call's result, so
// emulation always runs on ptrace. `auto` takes bpf where it loads and
// falls back to ptrace with the reason; an explicit `bpf` fails instead.

import { startTrace, TraceError, type CaptureBackend, type TraceOptions, type TraceSession } from './native.js';

export const BACKEND_CHOICES = ['auto', 'bpf', 'ptrace'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface CaptureStarted {
  session: TraceSession;
  backend: CaptureBackend;
  /** Why this backend, in a few words (printed by -v). */
  why: string;
}

/**
 * Set to 1, `auto` behaves as if BPF could not load here (the fallback path,
 * for machines where it can); an explicit `--backend bpf` is refused too.
 */
export const NO_BPF_ENV = 'VFIOTRACE_NO_BPF';

/**
 * Set to 1, the bpf backend uses a 16 KiB ring read only once a spawned
 * command has exited, so calls are certainly lost: to see the loss reported.
 */
export const SMALL_RING_ENV = 'VFIOTRACE_BPF_SMALL_RING';

/** The environment's say over the default (VFIOTRACE_BACKEND), else auto. */
export function defaultBackend(): BackendChoice {
  const v = process.env.VFIOTRACE_BACKEND;
  return (BACKEND_CHOICES as readonly string[]).includes(v ?? '') ? (v as BackendChoice) : 'auto';
}

export function isBackendChoice(v: unknown): v is BackendChoice {
  return typeof v === 'string' && (BACKEND_CHOICES as readonly string[]).includes(v);
}

export type Starter = (o: TraceOptions) => TraceSession;

/**
 * Starts a session on the chosen backend. `via` replaces the engine's
 * starter: an emulator's (which needs ptrace) or a test's stand-in.
 */
export function startCapture(choice: BackendChoice, options: TraceOptions, via?: { start: Starter; emulating: boolean }): CaptureStarted {
  const start = via?.start ?? startTrace;
  const emulating = (via?.emulating ?? false) || options.verdictFd !== undefined;
  if (options.allProcesses === true) return startHostWide(choice, options, start, emulating);
  if (choice === 'ptrace') return { session: start({ ...options, backend: 'ptrace' }), backend: 'ptrace', why: 'chosen with --backend ptrace' };
  if (emulating) {
    if (choice === 'bpf') throw new TraceError('emulation needs the ptrace backend (eBPF can watch calls, not change their results)', 'EINVAL');
    return { session: start({ ...options, backend: 'ptrace' }), backend: 'ptrace', why: 'auto, as emulation changes call results, which only ptrace can' };
  }
  if (process.env[SMALL_RING_ENV] === '1') options = { ...options, bpfSmallRing: true };
  const simulated = process.env[NO_BPF_ENV] === '1' ? `eBPF disabled by ${NO_BPF_ENV}=1` : null;
  if (choice === 'bpf') {
    if (simulated !== null) throw new TraceError(`cannot use the eBPF backend: ${simulated}`, 'EBPF');
    return { session: start({ ...options, backend: 'bpf' }), backend: 'bpf', why: 'chosen with --backend bpf' };
  }
  if (simulated !== null) return { session: start({ ...options, backend: 'ptrace' }), backend: 'ptrace', why: `auto, ${simulated}` };
  try {
    return { session: start({ ...options, backend: 'bpf' }), backend: 'bpf', why: 'auto, eBPF loaded: the traced processes never stop' };
  } catch (e) {
    if (!(e instanceof TraceError) || e.code !== 'EBPF') throw e;
    return { session: start({ ...options, backend: 'ptrace' }), backend: 'ptrace', why: `auto, eBPF unavailable: ${e.message}` };
  }
}

/**
 * `--all`: only eBPF sees processes nobody started or attached to, so there
 * is no fallback; a refusal says why in one line.
 */
function startHostWide(choice: BackendChoice, options: TraceOptions, start: Starter, emulating: boolean): CaptureStarted {
  const refuse = (why: string): never => {
    throw new TraceError(`cannot trace every process: ${why}`, 'EINVAL');
  };
  if (emulating) refuse('emulation answers the calls of one command it starts');
  if (choice === 'ptrace') refuse('it needs the eBPF backend (ptrace only sees the processes it starts or attaches to)');
  const simulated = process.env[NO_BPF_ENV] === '1' ? `eBPF disabled by ${NO_BPF_ENV}=1` : null;
  if (simulated !== null) refuse(simulated);
  const why = choice === 'bpf' ? 'chosen with --backend bpf' : 'auto, as only eBPF sees every process';
  try {
    return { session: start({ ...options, backend: 'bpf' }), backend: 'bpf', why };
  } catch (e) {
    if (e instanceof TraceError && e.code === 'EBPF') refuse(e.message);
    throw e;
  }
}
