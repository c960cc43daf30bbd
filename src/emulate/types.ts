// What the emulated kernel sees of a call and what it answers.

/** One stopped ioctl, as the tracer reports it at entry. */
export interface EmuCall {
  pid: number;
  tid: number;
  fd: number;
  /** The fd's /proc/PID/fd link target. */
  fdPath: string;
  /** Low 32 bits of the request. */
  request: number;
  arg: bigint;
  /** Argument bytes captured at entry (by the capture rule). */
  entry: Uint8Array;
  /** Offset where reading the argument failed at entry, or null. */
  inFault: number | null;
  /**
   * The open file the fd names, as the tracer told it (the same token for
   * every fd naming that open file: dups, inherited fds); absent when the
   * tracer does not tell (then open files are told apart by FileIdentity).
   */
  file?: number;
}

export interface MemWrite {
  addr: bigint;
  bytes: Uint8Array;
}

export type Verdict =
  /** Let the real kernel run the call (an fd that is not the emulated machine's). */
  | { action: 'run' }
  /** Skip the call: it returns `ret`, after `writes` are copied into the tracee. */
  | { action: 'return'; ret: number; writes: MemWrite[] }
  /** Turn the call into openat(AT_FDCWD, path, flags): a real fd for the client. */
  | { action: 'openat'; path: string; flags: number };

export const RUN: Verdict = { action: 'run' };

export function ret(value: number, writes: MemWrite[] = []): Verdict {
  return { action: 'return', ret: value, writes };
}
