// Watches the engine's byte stream for PENDING records (type 4), hands each
// to a callback at once, and passes every byte on unchanged (readers skip
// record types they do not know). PENDING has the IOCTL record's layout, so
// it is parsed by the recording reader itself, relabelled as an IOCTL.
// Process starts are passed on too: a forked child shares its parent's fds.

import { Transform, type TransformCallback } from 'node:stream';
import { ProcessEventKind, type IoctlRecord } from '../trace/events.js';
import { RecordingParser, parseHeader, RECORD_IOCTL, RECORD_PROCESS } from '../trace/reader.js';

export const RECORD_PENDING = 4;

export class PendingTap extends Transform {
  private header: Uint8Array | null = null;
  private le = true;
  private buf = new Uint8Array(0);
  private pos = 0;
  private broken = false;

  constructor(
    private readonly onPending: (r: IoctlRecord) => void,
    /** PROCESS START records: (child pid, parent pid). */
    private readonly onStart: (pid: number, parent: number) => void = () => undefined,
    /** Called at once when the tap is destroyed (its reader stopped reading). */
    private readonly onDestroy: () => void = () => undefined,
  ) {
    super();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.onDestroy();
    done(err);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.scan(chunk);
    } catch (e) {
      // A stream we cannot follow: stop looking, keep passing bytes (the reader reports it).
      this.broken = true;
      this.emit('tap-error', e);
    }
    done(null, chunk);
  }

  private scan(chunk: Uint8Array): void {
    if (this.broken) return;
    const joined = new Uint8Array(this.buf.length - this.pos + chunk.length);
    joined.set(this.buf.subarray(this.pos));
    joined.set(chunk, this.buf.length - this.pos);
    this.buf = joined;
    this.pos = 0;
    if (!this.header) {
      const h = parseHeader(this.buf);
      if (!h) return;
      this.header = this.buf.slice(0, h.length);
      this.le = h.header.byteOrder === 'le';
      this.pos = h.length;
    }
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    while (this.pos + 8 <= this.buf.length) {
      const type = dv.getUint16(this.pos, this.le);
      const len = dv.getUint32(this.pos + 4, this.le);
      if (len < 8 || len % 8 !== 0) throw new Error(`bad record length ${len}`);
      if (this.pos + len > this.buf.length) break;
      if (type === RECORD_PENDING) this.onPending(this.parse(this.buf.slice(this.pos, this.pos + len)));
      else if (type === RECORD_PROCESS && len >= 32 && dv.getUint16(this.pos + 2, this.le) === ProcessEventKind.Start) {
        this.onStart(dv.getUint32(this.pos + 8, this.le), dv.getUint32(this.pos + 28, this.le));
      }
      this.pos += len;
    }
  }

  private parse(rec: Uint8Array): IoctlRecord {
    new DataView(rec.buffer).setUint16(0, RECORD_IOCTL, this.le);
    const p = new RecordingParser();
    p.push(this.header!);
    const [r] = p.push(rec);
    if (!r || r.type !== 'ioctl') throw p.error ?? new Error('unreadable PENDING record');
    return r;
  }
}
