// The one decoded event type. Text, JSON, the TUI, the audit and the recorder
// all consume DecodedEvent; none of them talks to the tracer.

import type { EndRecord, IoctlRecord, ProcessRecord } from '../trace/events.js';

export type FdKind = 'container' | 'group' | 'device' | 'iommufd' | 'migration' | 'dmabuf' | 'other';

/** Who reads and who writes a field: the caller (in), the kernel (out), or both. */
export type Direction = 'in' | 'out' | 'inout';

export type Severity = 'info' | 'warning' | 'error';

/** One node of a decoded payload: a scalar, a struct, a union, an array or a string. */
export interface FieldNode {
  /** C field name as in the uapi header ("argsz", "err", "type"), or "[3]" for an element. */
  name: string;
  /** Dotted path from the payload root: "err.type", "data[2]", "caps[0].iova_ranges[1].start". */
  path: string;
  /** C type as written in the header: "__u32", "struct vfio_eeh_pe_err", "__s32[]". */
  ctype: string;
  /** Byte offset within the captured buffer, and size in bytes: drive hex highlighting. */
  offset: number;
  size: number;
  dir: Direction;
  /** Scalar value (integers, fds, flags, enums). Absent on aggregates and strings. */
  value?: bigint;
  /**
   * String value (C strings, UUIDs rendered as text). Raw: a C string is the
   * tracee's bytes as UTF-8, control characters included; `display` is the
   * escaped form that is safe to print.
   */
  text?: string;
  /** Human form: "VFIO_EEH_PE_ENABLE", "0x3 /* READ|WRITE *\/", "\"0000:06:0d.0\"". */
  display: string;
  /** Set on exit-side nodes whose bytes differ from the entry capture. */
  changed?: boolean;
  /** The bytes were not captured (fault or truncation): value/display are placeholders. */
  unreadable?: boolean;
  children?: FieldNode[];
}

export interface Finding {
  /** Stable rule id, e.g. "argsz-below-minsz", "eeh-flags-nonzero". */
  rule: string;
  severity: Severity;
  message: string;
  /** Path of the field the finding is about, when there is one. */
  field?: string;
  /** Sequence numbers of the events involved (sequence rules name several). */
  events?: number[];
}

/** How the ioctl name was chosen when the number alone does not say. */
export type Resolution =
  | 'unique' // only one ioctl has this number
  | 'fd-kind' // the fd's kind picked it
  | 'iommu-type' // the container's last VFIO_SET_IOMMU picked it
  | 'iommu-type-failed' // ... picked by a VFIO_SET_IOMMU that failed
  | 'arch' // the producing host's architecture picked it
  | 'ambiguous' // several candidates remain: see `candidates`
  | 'unknown'; // not a known VFIO/iommufd number

export interface RetInfo {
  /** Kernel return value (-errno on failure). */
  value: number;
  /** errno name ("EINVAL") when value < 0, else null. */
  errno: string | null;
  /** What the value means for this ioctl: "supported", "new device fd", "PE state STOPPED", reason for an errno. */
  meaning: string;
  /** A new fd created by the call (returned, or delivered in a field such as data_fd). */
  newFd?: { fd: number; kind: FdKind };
}

/**
 * The decoder hands out an IoctlEvent (event.ts) whose `in`/`out` are built
 * on first access: read them, or copy with toJSON(); an object spread
 * (`{ ...ev }`) does not carry them.
 */
export interface DecodedIoctl {
  kind: 'ioctl';
  seq: number;
  record: IoctlRecord;
  /** ns since the recording started, and the call's duration in ns (null if it never returned). */
  ts: number;
  dur: number | null;
  pid: number;
  tid: number;
  fd: number;
  fdPath: string;
  fdKind: FdKind;
  /** The request number with the producing ABI's encoding. */
  request: number;
  /** Resolved ioctl name, or null when unknown or ambiguous. */
  ioctl: string | null;
  /** Family file the ioctl comes from ("eeh", "type1", ...), or null. */
  family: string | null;
  candidates: readonly string[];
  resolution: Resolution;
  /** Third argument shown strace-style: decoded integer argument, or the pointer in hex. */
  argDisplay: string;
  /** Payload at entry (caller's view) and at exit (after the kernel). */
  in: FieldNode | null;
  out: FieldNode | null;
  ret: Readonly<RetInfo>;
  /** The call never returned (thread died or tracer detached). */
  incomplete: boolean;
  truncated: boolean;
  findings: readonly Finding[];
}

export interface DecodedProcess {
  kind: 'process';
  seq: number;
  record: ProcessRecord;
  ts: number;
  pid: number;
  tid: number;
}

export interface DecodedEnd {
  kind: 'end';
  seq: number;
  record: EndRecord;
}

export type DecodedEvent = DecodedIoctl | DecodedProcess | DecodedEnd;
