// Watches the engine's byte stream for PENDING records (type 4) and hands
// each to a callback at once; process starts are passed on too (a forked
// child shares its parent's fds). PENDING has the IOCTL record's layout, so
// it is parsed by the recording reader itself, relabelled as an IOCTL.
//
// By default every byte is passed on unchanged (readers skip record types
// they do not know). An emulated session asks for two changes to what is
// passed on: PENDING records are left out (they carry each payload whole,
// past what -s lets a recording keep, and the completed IOCTL record follows
// anyway), and fd paths that are the emulator's own (the device's backing
// file) are shown under the name the kernel gives that fd.

import { Transform, type TransformCallback } from 'node:stream';
import { ProcessEventKind, type IoctlRecord } from '../trace/events.js';
import { RecordingParser, ioctlPathBytes, parseHeader, RECORD_IOCTL, RECORD_PROCESS } from '../trace/reader.js';
import { encodeRecord } from '../trace/writer.js';
import { PROCESS, RECORD_HEADER } from '../trace/layout.js';

export const RECORD_PENDING = 4;

export interface TapOptions {
  /** Leave PENDING records out of the stream passed on. */
  dropPending?: boolean;
  /** fd paths to show under another name in the records passed on: path → name. */
  rename?: ReadonlyMap<string, string>;
}

export class PendingTap extends Transform {
  private header: Uint8Array | null = null;
  private le = true;
  private buf = new Uint8Array(0);
  private pos = 0;
  /** buf[0, sent) has been passed on (or left out). */
  private sent = 0;
  private broken = false;
  private readonly renames: { path: Uint8Array; name: string }[];

  constructor(
    private readonly onPending: (r: IoctlRecord) => void,
    /** PROCESS START records: (child pid, parent pid). */
    private readonly onStart: (pid: number, parent: number) => void = () => undefined,
    /** Called at once when the tap is destroyed (its reader stopped reading). */
    private readonly onDestroy: () => void = () => undefined,
    private readonly options: TapOptions = {},
  ) {
    super();
    this.renames = [...(options.rename ?? new Map<string, string>())].map(([path, name]) => ({ path: Buffer.from(path, 'utf8'), name }));
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.onDestroy();
    done(err);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.broken) {
      done(null, chunk);
      return;
    }
    try {
      this.scan(chunk);
      done();
    } catch (e) {
      // A stream we cannot follow: stop looking, pass the rest on as it is
      // (the reader reports it).
      this.broken = true;
      this.emit('tap-error', e);
      done(null, this.buf.subarray(this.sent));
    }
  }

  override _flush(done: TransformCallback): void {
    // A record cut short at the end: passed on for the reader to report.
    done(null, this.broken || this.sent >= this.buf.length ? undefined : this.buf.subarray(this.sent));
  }

  /** Takes in a chunk and passes on its complete records. */
  private scan(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buf.length - this.pos + chunk.length);
    joined.set(this.buf.subarray(this.pos));
    joined.set(chunk, this.buf.length - this.pos);
    this.buf = joined;
    this.pos = 0;
    this.sent = 0;
    if (!this.header) {
      const h = parseHeader(this.buf);
      if (!h) return;
      this.header = this.buf.slice(0, h.length);
      this.le = h.header.byteOrder === 'le';
      this.pos = h.length;
    }
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    while (this.pos + 8 <= this.buf.length) {
      const at = this.pos;
      const type = dv.getUint16(at + RECORD_HEADER.at.type, this.le);
      const len = dv.getUint32(at + RECORD_HEADER.at.len, this.le);
      if (len < 8 || len % 8 !== 0) throw new Error(`bad record length ${len}`);
      if (at + len > this.buf.length) break;
      this.pos += len;
      let replace: Uint8Array | null | undefined;
      if (type === RECORD_PENDING) {
        this.onPending(this.parse(this.buf.slice(at, at + len), true));
        if (this.options.dropPending) replace = null;
        else replace = this.renamed(at, len);
      } else if (type === RECORD_IOCTL) {
        replace = this.renamed(at, len);
      } else if (type === RECORD_PROCESS && len >= PROCESS.size && dv.getUint16(at + PROCESS.at['h.flags'], this.le) === ProcessEventKind.Start) {
        this.onStart(dv.getUint32(at + PROCESS.at.pid, this.le), dv.getUint32(at + PROCESS.at.other, this.le));
      }
      if (replace === undefined) continue;
      if (at > this.sent) this.push(this.buf.subarray(this.sent, at));
      if (replace) this.push(replace);
      this.sent = this.pos;
    }
    if (this.pos > this.sent) this.push(this.buf.subarray(this.sent, this.pos));
    this.sent = this.pos;
  }

  /** The IOCTL/PENDING record at `at` with its fd path renamed, or undefined when it keeps its path. */
  private renamed(at: number, len: number): Uint8Array | undefined {
    if (this.renames.length === 0) return undefined;
    const path = ioctlPathBytes(this.buf, at, this.le);
    const hit = this.renames.find((r) => sameBytes(r.path, path));
    if (!hit) return undefined;
    const rec = this.buf.slice(at, at + len);
    const type = new DataView(rec.buffer).getUint16(RECORD_HEADER.at.type, this.le);
    const r = this.parse(rec, type === RECORD_PENDING);
    const bytes = encodeRecord({ ...r, fdPath: hit.name }, this.le ? 'le' : 'be');
    if (type === RECORD_PENDING) new DataView(bytes.buffer, bytes.byteOffset).setUint16(RECORD_HEADER.at.type, RECORD_PENDING, this.le);
    return bytes;
  }

  /** Parses one IOCTL record (a PENDING one relabelled first: `rec` is the tap's own copy). */
  private parse(rec: Uint8Array, pending: boolean): IoctlRecord {
    if (pending) new DataView(rec.buffer, rec.byteOffset).setUint16(0, RECORD_IOCTL, this.le);
    const p = new RecordingParser();
    p.push(this.header!);
    const [r] = p.push(rec);
    if (!r || r.type !== 'ioctl') throw p.error ?? new Error('unreadable PENDING record');
    return r;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
