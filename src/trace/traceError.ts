// Why a trace could not start or run, with a code callers branch on.
// Its own file because both the engine binding (nativeLib.ts) and the
// session starter (native.ts) throw it.

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
