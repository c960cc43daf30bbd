// A recording read as a stream of record batches, from any byte source (a
// live tracer's pipe, a file): the header first, then the records, memory
// bounded by the source's chunks plus one record.

import { createReadStream } from 'node:fs';
import type { RecordingHeader, TraceRecord } from './events.js';
import { RecordingParser } from './reader.js';

export interface OpenRecording {
  header: RecordingHeader;
  /** Records in batches (the fast path); throws RecordingError after the last good batch. */
  batches(): AsyncGenerator<TraceRecord[], void, undefined>;
  /** Records one by one. */
  records(): AsyncGenerator<TraceRecord, void, undefined>;
}

/**
 * Reads a recording from a byte source (a live tracer stream, a file stream):
 * waits for the header, then iterates records. Memory stays bounded by the
 * source's chunk size plus one record. Iterate only once.
 */
export async function readStream(source: AsyncIterable<Uint8Array>): Promise<OpenRecording> {
  const parser = new RecordingParser();
  const it = source[Symbol.asyncIterator]();
  let first: TraceRecord[] = [];
  while (!parser.header) {
    const r = await it.next();
    if (r.done) {
      parser.finish(); // throws: no or truncated header
      break;
    }
    first = parser.push(r.value);
    if (parser.error) throw parser.error;
  }
  const header = parser.header as unknown as RecordingHeader;
  async function* batches(): AsyncGenerator<TraceRecord[], void, undefined> {
    if (first.length > 0) yield first;
    first = [];
    if (!parser.error) {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        const recs = parser.push(r.value);
        if (recs.length > 0) yield recs;
        if (parser.error) break;
      }
    }
    if (parser.error && it.return) await it.return();
    parser.finish();
  }
  async function* records(): AsyncGenerator<TraceRecord, void, undefined> {
    for await (const batch of batches()) yield* batch;
  }
  return { header, batches, records };
}

/** Opens a recording file for streaming (1 MiB reads). */
export function readRecordingFile(path: string): Promise<OpenRecording> {
  return readStream(createReadStream(path, { highWaterMark: 1 << 20 }));
}
