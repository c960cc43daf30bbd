// Streaming parser for the recording format (docs/recording-format.md).
// Chunks may split records anywhere; every complete record is returned before
// any error, and errors name the stream offset of what was wrong.
//
// This file is the parser's state machine: header first, then records, each
// parsed once its bytes are all here. The header (recordingHeader.ts), the
// contents of each record (recordBodies.ts), the unfinished bytes
// (pendingBytes.ts), the format's numbers (recordingFormat.ts) and its errors
// (recordingErrors.ts) live apart; they are re-exported here for importers.

import { EndReason, type RecordingHeader, type TraceRecord } from './events.js';
import { RECORD_HEADER } from './layout.js';
import { PendingBytes } from './pendingBytes.js';
import { RecordBodyReader } from './recordBodies.js';
import {
  IOCTL_FIXED_LEN,
  MAX_LEN_BY_TYPE,
  MAX_RECORD_LEN,
  RECORD_END,
  RECORD_IOCTL,
  RECORD_PENDING,
  RECORD_PROCESS,
} from './recordingFormat.js';
import { NOT_A_RECORDING_EMPTY, RecordingError } from './recordingErrors.js';
import { HEADER_PREFIX_LEN, claimedHeaderLength, parseHeader } from './recordingHeader.js';

export {
  END_FIXED_LEN,
  FORMAT_VERSION,
  HEADER_FIXED_LEN,
  IOCTL_FIXED_LEN,
  MAGIC,
  MAX_IOCTL_RECORD_LEN,
  MAX_RECORD_LEN,
  PROCESS_FIXED_LEN,
  RECORD_END,
  RECORD_IOCTL,
  RECORD_PROCESS,
} from './recordingFormat.js';
export { RecordingError, incompleteMessage, recordingFileProblem } from './recordingErrors.js';
export { archName, parseHeader } from './recordingHeader.js';
export { ioctlPathBytes } from './recordBodies.js';

const HD = RECORD_HEADER.at;
/** A record's common header: type, flags, length. */
const RECORD_HEADER_LEN = 8;

/**
 * Incremental parser: feed chunks with push(), which returns the records they
 * complete. It never throws from push(): on corruption it keeps the good
 * records, stops, and exposes the error, which finish() (or the next push) throws.
 */
export class RecordingParser {
  header: RecordingHeader | null = null;
  /** Set once corruption was found; parsing stops there. */
  error: RecordingError | null = null;
  /** True after an END record. */
  ended = false;
  /** Stream offset of the first byte not yet consumed. */
  offset = 0;
  /** Bytes of the unfinished header or record. */
  private readonly pending = new PendingBytes();
  /** Offset of the unfinished IOCTL record whose fixed part was checked. */
  private fixedChecked = -1;
  private le = true;
  private readonly views: boolean;
  /** Set with the header, whose byte order the records are read in. */
  private bodies: RecordBodyReader | null = null;

  /**
   * `views`: IOCTL records are IoctlRecordViews (64-bit fields read on access,
   * no BigInt per field up front) — for consumers that do not copy records
   * with a spread.
   */
  constructor(opts: { views?: boolean } = {}) {
    this.views = opts.views === true;
  }

  push(chunk: Uint8Array): TraceRecord[] {
    const out: TraceRecord[] = [];
    if (this.error || chunk.length === 0) return out;
    let buf = chunk;
    if (this.pending.length > 0) {
      if (this.pending.length + chunk.length < this.wanted()) {
        this.pending.add(chunk);
        return out;
      }
      buf = this.pending.takeWith(chunk);
    }
    let pos = 0;
    try {
      if (!this.header) {
        const h = parseHeader(buf);
        if (!h) {
          this.pending.keep(buf, 0);
          return out;
        }
        this.header = h.header;
        this.le = h.header.byteOrder === 'le';
        this.bodies = new RecordBodyReader(this.le, this.views);
        pos = h.length;
        this.offset += h.length;
      }
      pos = this.parseRecords(buf, pos, out);
    } catch (e) {
      if (e instanceof RecordingError) {
        this.error = e;
        return out;
      }
      throw e;
    }
    if (pos < buf.length) this.pending.keep(buf, pos);
    return out;
  }

  /**
   * Pending bytes worth a parse attempt: the header's 16 bytes then its
   * length; a record's 8-byte header, then an IOCTL's fixed part (so its
   * payload lengths are checked early), then the whole record.
   */
  private wanted(): number {
    const pendingLen = this.pending.length;
    if (!this.header) {
      if (pendingLen < HEADER_PREFIX_LEN) return HEADER_PREFIX_LEN;
      return claimedHeaderLength(this.pending.peek(HEADER_PREFIX_LEN));
    }
    if (pendingLen < RECORD_HEADER_LEN) return RECORD_HEADER_LEN;
    const h = new DataView(this.pending.peek(RECORD_HEADER_LEN).buffer);
    const type = h.getUint16(HD.type, this.le);
    const len = h.getUint32(HD.len, this.le);
    if ((type === RECORD_IOCTL || type === RECORD_PENDING) && this.fixedChecked !== this.offset) return Math.min(len, IOCTL_FIXED_LEN);
    return len;
  }

  /** Call at end of input: throws the error seen, or a truncation error if bytes are left over. */
  finish(): void {
    if (this.error) throw this.error;
    if (!this.header) {
      throw this.pending.length > 0 ? new RecordingError(0, 'truncated header') : new RecordingError(0, NOT_A_RECORDING_EMPTY, true);
    }
    if (this.pending.length > 0) {
      const err = new RecordingError(this.offset, `truncated record (${this.pending.length} bytes left over)`);
      this.error = err;
      throw err;
    }
  }

  /** Parses the complete records in buf[start…] into `out`; returns where the first incomplete one starts. */
  private parseRecords(buf: Uint8Array, start: number, out: TraceRecord[]): number {
    const bodies = this.bodies as RecordBodyReader;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const le = this.le;
    let pos = start;
    const n = buf.length;
    while (pos + RECORD_HEADER_LEN <= n) {
      const type = dv.getUint16(pos + HD.type, le);
      const flags = dv.getUint16(pos + HD.flags, le);
      const len = dv.getUint32(pos + HD.len, le);
      const at = this.offset;
      checkRecordLength(type, len, at);
      if (pos + len > n) {
        // Incomplete: check what can be checked now rather than wait for bytes that may never be valid.
        if ((type === RECORD_IOCTL || type === RECORD_PENDING) && pos + IOCTL_FIXED_LEN <= n) {
          bodies.ioctlLengths(dv, pos, len, at);
          this.fixedChecked = at;
        }
        break;
      }
      switch (type) {
        case RECORD_IOCTL:
          out.push(bodies.ioctl(buf, dv, pos, len, flags, at));
          break;
        case RECORD_PROCESS:
          out.push(bodies.process(buf, dv, pos, len, flags, at));
          break;
        case RECORD_END:
          out.push(bodies.end(buf, dv, pos, len, flags, at));
          this.ended = true;
          break;
        default:
          break; // unknown record types are skipped using len
      }
      pos += len;
      this.offset += len;
    }
    return pos;
  }
}

/** Refuses a record length that is not a multiple of 8 or is above its type's longest, before its bytes arrive. */
function checkRecordLength(type: number, len: number, at: number): void {
  if (len < RECORD_HEADER_LEN || len % 8 !== 0) throw new RecordingError(at, `bad record length ${len} (type ${type})`);
  const known = MAX_LEN_BY_TYPE[type];
  if (len > (known?.max ?? MAX_RECORD_LEN)) {
    throw new RecordingError(at, `bad ${known ? `${known.name} record` : `record (type ${type})`} length ${len} (at most ${known?.max ?? MAX_RECORD_LEN})`);
  }
}

/** Parses a whole in-memory recording. Throws RecordingError after collecting `records` on the error object. */
export function parseRecording(bytes: Uint8Array): { header: RecordingHeader; records: TraceRecord[] } {
  const p = new RecordingParser();
  const records = p.push(bytes);
  try {
    p.finish();
  } catch (e) {
    if (e instanceof RecordingError) (e as RecordingError & { records?: TraceRecord[] }).records = records;
    throw e;
  }
  return { header: p.header as RecordingHeader, records };
}

export { EndReason };
