// The raw event stream, exactly as native/ produces it and a recording stores
// it (docs/recording-format.md). Nothing here knows VFIO.

export type ByteOrder = 'le' | 'be';

/** What produced the stream: fixes byte order, word size and ioctl encoding. */
export interface RecordingHeader {
  version: number;
  byteOrder: ByteOrder;
  wordSize: 4 | 8;
  /** Linux AUDIT_ARCH_* value of the traced ABI. */
  auditArch: number;
  /** Derived from auditArch: 'x86_64' | 'aarch64' | 'ppc64le' | 'ppc64' | … */
  arch: string;
  startRealtimeNs: bigint;
  startMonotonicNs: bigint;
  machine: string;
  kernelRelease: string;
  hostname: string;
  argv: string[];
  attachedPids: number[];
  producer: string;
  /** Host-wide session (`--all`): every process making a matching call, introduced at its first one. */
  hostWide: boolean;
}

/**
 * The engine's VFT_MAX_PAYLOAD_CAP (native/include/vftrace.h): the most bytes
 * captured per side of a call, so the bound on an IOCTL record's in_len/out_len.
 */
export const MAX_PAYLOAD_CAP = 64 << 20;

export const IOCTL_FLAG = {
  TRUNCATED: 0x1,
  IN_FAULT: 0x2,
  OUT_FAULT: 0x4,
  NO_EXIT: 0x8,
  EMULATED: 0x10,
  /** The eBPF capture met a page that was mapped but not resident (it cannot fault pages in): not a bad pointer. */
  IN_UNAVAILABLE: 0x20,
  OUT_UNAVAILABLE: 0x40,
} as const;

export enum RuleKind {
  None = 0,
  Integer = 1,
  Fixed = 2,
  Sized = 3,
  CString = 4,
}

export interface IoctlRecord {
  type: 'ioctl';
  /** Byte offset of the record in the stream (for error messages and seeking). */
  offset: number;
  flags: number;
  pid: number;
  tid: number;
  tEntry: bigint;
  tExit: bigint;
  /** Raw syscall arguments (full register width). */
  fd: bigint;
  request: bigint;
  arg: bigint;
  /** Kernel return value: -errno on failure. */
  ret: bigint;
  wantLen: number;
  inFault: number | null;
  outFault: number | null;
  ruleKind: RuleKind;
  fdPath: string;
  entry: Uint8Array;
  exit: Uint8Array;
}

export enum ProcessEventKind {
  Start = 1,
  Exec = 2,
  Exit = 3,
  Killed = 4,
  Detached = 5,
  Signal = 6,
  Thread = 7,
}

export interface ProcessRecord {
  type: 'process';
  offset: number;
  kind: ProcessEventKind;
  pid: number;
  tid: number;
  ts: bigint;
  value: number;
  other: number;
  text: string;
}

export enum EndReason {
  Exited = 1,
  Killed = 2,
  Detached = 3,
  TracerError = 4,
}

export interface EndRecord {
  type: 'end';
  offset: number;
  reason: EndReason;
  status: number;
  dropped: number;
  events: bigint;
  text: string;
}

export type TraceRecord = IoctlRecord | ProcessRecord | EndRecord;
