// The bytes of a header or record that has not fully arrived. Kept as a list
// of chunks and joined once, when the record is complete (or its fixed part
// can be checked): a join per chunk would make reading quadratic in the
// record's size. Separate from the parser so its state machine reads as
// "wait for n bytes, then parse".

export class PendingBytes {
  /** In arrival order; each a copy, since callers may reuse their buffers. */
  private chunks: Uint8Array[] = [];
  private total = 0;

  /** How many bytes are pending. */
  get length(): number {
    return this.total;
  }

  /** Appends a copy of `chunk`. */
  add(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
    this.total += chunk.length;
  }

  /** Replaces the pending bytes with buf[pos…] (copied). */
  keep(buf: Uint8Array, pos: number): void {
    this.chunks = [buf.slice(pos)];
    this.total = buf.length - pos;
  }

  /** The pending bytes followed by `last`, in one buffer; nothing is pending after. */
  takeWith(last: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.total + last.length);
    let at = 0;
    for (const c of this.chunks) {
      joined.set(c, at);
      at += c.length;
    }
    joined.set(last, at);
    this.chunks = [];
    this.total = 0;
    return joined;
  }

  /** The first `n` pending bytes (fewer if fewer are pending), as a new buffer. */
  peek(n: number): Uint8Array {
    const b = new Uint8Array(Math.min(n, this.total));
    let at = 0;
    for (const c of this.chunks) {
      if (at >= b.length) break;
      const part = c.subarray(0, b.length - at);
      b.set(part, at);
      at += part.length;
    }
    return b;
  }
}
