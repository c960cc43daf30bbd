// Encodes recordings in TS, in either byte order: golden recordings for other
// architectures, synthetic test input and benchmarks. (Live `-w` recording
// just copies the native stream's bytes.)

import {
  type ByteOrder,
  type EndRecord,
  type IoctlRecord,
  type ProcessRecord,
  type RecordingHeader,
  type TraceRecord,
} from './events.js';
import {
  END_FIXED_LEN,
  FORMAT_VERSION,
  HEADER_FIXED_LEN,
  IOCTL_FIXED_LEN,
  MAGIC,
  PROCESS_FIXED_LEN,
  RECORD_END,
  RECORD_IOCTL,
  RECORD_PROCESS,
  archName,
} from './reader.js';
import { AUDIT_ARCH, abiOf } from './auditArch.js';
import { END, IOCTL, PROCESS, RECORD_HEADER } from './layout.js';

const enc = new TextEncoder();
const HD = RECORD_HEADER.at;
const IO = IOCTL.at;
const PR = PROCESS.at;
const EN = END.at;

/** A record to encode: `offset` is assigned by position and may be left out. */
export type NewRecord =
  | (Omit<IoctlRecord, 'offset'> & { offset?: number })
  | (Omit<ProcessRecord, 'offset'> & { offset?: number })
  | (Omit<EndRecord, 'offset'> & { offset?: number });

/** A header with sensible defaults; `arch` picks audit arch, byte order and word size. */
export function makeHeader(partial: Partial<RecordingHeader> & { arch?: string } = {}): RecordingHeader {
  const arch = partial.arch ?? 'x86_64';
  const auditArch = partial.auditArch ?? AUDIT_ARCH[arch] ?? (AUDIT_ARCH.x86_64 as number);
  const abi = abiOf(arch);
  return {
    version: FORMAT_VERSION,
    byteOrder: partial.byteOrder ?? abi?.byteOrder ?? 'le',
    wordSize: partial.wordSize ?? abi?.wordSize ?? 8,
    auditArch,
    arch: archName(auditArch),
    startRealtimeNs: partial.startRealtimeNs ?? 0n,
    startMonotonicNs: partial.startMonotonicNs ?? 0n,
    machine: partial.machine ?? arch,
    kernelRelease: partial.kernelRelease ?? '',
    hostname: partial.hostname ?? '',
    argv: partial.argv ?? [],
    attachedPids: partial.attachedPids ?? [],
    producer: partial.producer ?? 'vfiotrace 0.1.0',
    hostWide: partial.hostWide ?? false,
  };
}

const pad8 = (n: number) => (n + 7) & ~7;

export function encodeHeader(h: RecordingHeader): Uint8Array {
  const le = h.byteOrder === 'le';
  const tlvs: Array<[number, Uint8Array]> = [
    [1, enc.encode(h.machine)],
    [2, enc.encode(h.kernelRelease)],
    [3, enc.encode(h.hostname)],
    [4, enc.encode(h.argv.join('\0'))],
    [5, enc.encode(h.attachedPids.join(','))],
    [6, enc.encode(h.producer)],
    ...(h.hostWide ? [[7, enc.encode('all')] as [number, Uint8Array]] : []),
  ];
  let len = HEADER_FIXED_LEN;
  for (const [, v] of tlvs) len += 4 + ((Math.min(v.length, 0xffff) + 3) & ~3);
  len = pad8(len + 4);
  if (len > 0xffff) throw new RangeError('recording header too large');
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = MAGIC.charCodeAt(i);
  dv.setUint32(8, 0x0a0b0c0d, le);
  dv.setUint16(12, h.version, le);
  dv.setUint16(14, len, le);
  dv.setUint8(16, h.wordSize);
  dv.setUint32(20, h.auditArch >>> 0, le);
  dv.setBigUint64(24, h.startRealtimeNs, le);
  dv.setBigUint64(32, h.startMonotonicNs, le);
  let p = HEADER_FIXED_LEN;
  for (const [tag, v0] of tlvs) {
    const v = v0.subarray(0, 0xffff);
    dv.setUint16(p, tag, le);
    dv.setUint16(p + 2, v.length, le);
    b.set(v, p + 4);
    p += 4 + ((v.length + 3) & ~3);
  }
  // tag 0 / len 0 terminator is already zero
  return b;
}

/** A zeroed record of `size` bytes padded to 8, its common header (type, flags, len) written. */
function record(type: number, flags: number, size: number, le: boolean): { b: Uint8Array; dv: DataView } {
  const len = pad8(size);
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint16(HD.type, type, le);
  dv.setUint16(HD.flags, flags, le);
  dv.setUint32(HD.len, len, le);
  return { b, dv };
}

/** A record whose fixed part is followed by a text (its u16 length at `lenAt`), the text written. */
function textRecord(type: number, flags: number, fixed: number, lenAt: number, text: string, le: boolean): { b: Uint8Array; dv: DataView } {
  const t = enc.encode(text);
  const { b, dv } = record(type, flags, fixed + t.length, le);
  dv.setUint16(lenAt, t.length, le);
  b.set(t, fixed);
  return { b, dv };
}

export function encodeRecord(r: NewRecord, order: ByteOrder): Uint8Array {
  const le = order === 'le';
  switch (r.type) {
    case 'ioctl': {
      const path = enc.encode(r.fdPath);
      const { b, dv } = record(RECORD_IOCTL, r.flags, IOCTL_FIXED_LEN + path.length + r.entry.length + r.exit.length, le);
      dv.setUint32(IO.pid, r.pid, le);
      dv.setUint32(IO.tid, r.tid, le);
      dv.setBigUint64(IO.t_entry, r.tEntry, le);
      dv.setBigUint64(IO.t_exit, r.tExit, le);
      dv.setBigUint64(IO.fd, BigInt.asUintN(64, r.fd), le);
      dv.setBigUint64(IO.request, BigInt.asUintN(64, r.request), le);
      dv.setBigUint64(IO.arg, BigInt.asUintN(64, r.arg), le);
      dv.setBigInt64(IO.ret, BigInt.asIntN(64, r.ret), le);
      dv.setUint32(IO.want_len, r.wantLen, le);
      dv.setUint32(IO.in_len, r.entry.length, le);
      dv.setUint32(IO.out_len, r.exit.length, le);
      dv.setUint32(IO.in_fault, r.inFault ?? 0xffffffff, le);
      dv.setUint32(IO.out_fault, r.outFault ?? 0xffffffff, le);
      dv.setUint16(IO.path_len, path.length, le);
      dv.setUint8(IO.rule_kind, r.ruleKind);
      b.set(path, IOCTL_FIXED_LEN);
      b.set(r.entry, IOCTL_FIXED_LEN + path.length);
      b.set(r.exit, IOCTL_FIXED_LEN + path.length + r.entry.length);
      return b;
    }
    case 'process': {
      const { b, dv } = textRecord(RECORD_PROCESS, r.kind, PROCESS_FIXED_LEN, PR.text_len, r.text, le);
      dv.setUint32(PR.pid, r.pid, le);
      dv.setUint32(PR.tid, r.tid, le);
      dv.setBigUint64(PR.ts, r.ts, le);
      dv.setInt32(PR.value, r.value, le);
      dv.setUint32(PR.other, r.other >>> 0, le);
      return b;
    }
    case 'end': {
      const { b, dv } = textRecord(RECORD_END, r.reason, END_FIXED_LEN, EN.text_len, r.text, le);
      dv.setInt32(EN.status, r.status, le);
      dv.setUint32(EN.dropped, r.dropped, le);
      dv.setBigUint64(EN.events, r.events, le);
      return b;
    }
  }
}

/** Header plus records as one buffer. */
export function encodeRecording(header: RecordingHeader, records: Iterable<NewRecord>): Uint8Array {
  const parts: Uint8Array[] = [encodeHeader(header)];
  for (const r of records) parts.push(encodeRecord(r, header.byteOrder));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Incremental writer: collects encoded chunks (e.g. to pipe into a file stream). */
export class RecordingWriter {
  readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  constructor(readonly header: RecordingHeader) {
    this.push(encodeHeader(header));
  }
  /** Appends a record; returns the stream offset it was written at. */
  write(r: NewRecord): number {
    const at = this.bytes;
    this.push(encodeRecord(r, this.header.byteOrder));
    return at;
  }
  get length(): number {
    return this.bytes;
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
  private push(c: Uint8Array): void {
    this.chunks.push(c);
    this.bytes += c.length;
  }
}

export type { TraceRecord };
