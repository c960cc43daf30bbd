// The recording header: magic, byte-order mark, version, fixed fields and the
// tag-length-value list after them. Separate from the record parser because
// the header is read once, with its own checks, and some callers (the TUI's
// file source, the tap) need only the header.

import type { ByteOrder, RecordingHeader } from './events.js';
import { FORMAT_VERSION, HEADER_FIXED_LEN, MAGIC } from './recordingFormat.js';
import { RecordingError } from './recordingErrors.js';
import { archName } from './auditArch.js';

/** The header's first bytes: magic, byte-order mark, version and header length. */
export const HEADER_PREFIX_LEN = 16;

export { archName };

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The header length the first HEADER_PREFIX_LEN bytes claim, not yet checked
 * (parseHeader checks it): how many bytes to wait for before parsing.
 */
export function claimedHeaderLength(prefix: Uint8Array): number {
  return new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint16(14, prefix[8] === 0x0d);
}

/** Parses a header from the start of `b`; null if more bytes are needed. */
export function parseHeader(b: Uint8Array): { header: RecordingHeader; length: number } | null {
  if (b.length < HEADER_PREFIX_LEN) {
    checkMagic(b, Math.min(b.length, 8));
    return null;
  }
  checkMagic(b, 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const byteOrder = byteOrderMark(b);
  const le = byteOrder === 'le';
  const version = dv.getUint16(12, le);
  if (version !== FORMAT_VERSION) throw new RecordingError(12, `unsupported format version ${version}`);
  const headerLen = dv.getUint16(14, le);
  if (headerLen < HEADER_FIXED_LEN + 4 || headerLen % 8 !== 0) {
    throw new RecordingError(14, `bad header length ${headerLen}`);
  }
  if (b.length < headerLen) return null;
  const wordSize = dv.getUint8(16);
  if (wordSize !== 4 && wordSize !== 8) throw new RecordingError(16, `bad word size ${wordSize}`);
  const auditArch = dv.getUint32(20, le);
  const header: RecordingHeader = {
    version,
    byteOrder,
    wordSize,
    auditArch,
    arch: archName(auditArch),
    startRealtimeNs: dv.getBigUint64(24, le),
    startMonotonicNs: dv.getBigUint64(32, le),
    machine: '',
    kernelRelease: '',
    hostname: '',
    argv: [],
    attachedPids: [],
    producer: '',
    hostWide: false,
  };
  readTlvs(b, dv, le, headerLen, header);
  return { header, length: headerLen };
}

function checkMagic(b: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    if (b[i] !== MAGIC.charCodeAt(i)) throw new RecordingError(0, 'not a vfiotrace recording (bad magic)');
  }
}

function byteOrderMark(b: Uint8Array): ByteOrder {
  if (b[8] === 0x0d && b[9] === 0x0c && b[10] === 0x0b && b[11] === 0x0a) return 'le';
  if (b[8] === 0x0a && b[9] === 0x0b && b[10] === 0x0c && b[11] === 0x0d) return 'be';
  throw new RecordingError(8, 'bad byte-order mark');
}

/** Reads the TLV list after the fixed fields into `header`, up to its terminating tag 0. */
function readTlvs(b: Uint8Array, dv: DataView, le: boolean, headerLen: number, header: RecordingHeader): void {
  let p = HEADER_FIXED_LEN;
  for (;;) {
    if (p + 4 > headerLen) throw new RecordingError(p, 'header TLV list not terminated');
    const tag = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (tag === 0) return;
    if (p + 4 + len > headerLen) throw new RecordingError(p, `header TLV ${tag} runs past the header`);
    applyTlv(header, tag, utf8.decode(b.subarray(p + 4, p + 4 + len)));
    p += 4 + ((len + 3) & ~3);
  }
}

function applyTlv(header: RecordingHeader, tag: number, text: string): void {
  switch (tag) {
    case 1:
      header.machine = text;
      break;
    case 2:
      header.kernelRelease = text;
      break;
    case 3:
      header.hostname = text;
      break;
    case 4:
      header.argv = text.length === 0 ? [] : text.split('\0');
      break;
    case 5:
      header.attachedPids = text.length === 0 ? [] : text.split(',').map((s) => Number(s));
      break;
    case 6:
      header.producer = text;
      break;
    case 7:
      header.hostWide = text === 'all';
      break;
    default:
      break; // unknown tags are skipped by design
  }
}
