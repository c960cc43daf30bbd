// Glue from a byte source (a live tracer session or a recording file) through
// the reader and the decoder to DecodedEvents. Consumers pull batches; while
// they are busy nothing more is read, so a slow consumer slows the tracer
// (through the full pipe) instead of piling events up in memory.

import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { captureRules } from '../decode/captureRules.js';
import { createDecoder } from '../decode/decoder.js';
import type { DecodedEvent } from '../decode/types.js';
import type { CaptureRule } from '../trace/captureRule.js';
import type { RecordingHeader, TraceRecord } from '../trace/events.js';
import { writeFailure } from '../trace/ioError.js';
import { hostArch } from '../trace/platform.js';
import { incompleteMessage, RecordingParser, recordingFileProblem } from '../trace/reader.js';
import { registry } from '../../decoders/index.js';

/** What the pipeline needs from a decoder (src/decode's createDecoder). */
export interface EventDecoder {
  decode(record: TraceRecord): DecodedEvent;
}
export type DecoderFactory = (header: RecordingHeader) => EventDecoder;

export interface PipelineOptions {
  /** Default: src/decode's createDecoder. */
  decoder?: DecoderFactory;
  /** -w: copy every byte of the stream, unchanged, to this file. */
  recordTo?: string;
  /** Called for a record the decoder could not handle; the record is skipped. */
  onDecodeError?: (record: TraceRecord, error: Error) => void;
}

export interface Pipeline {
  header: RecordingHeader;
  /**
   * Decoded events in batches (a few hundred at most). After the last good batch
   * it throws the reader's RecordingError if the stream was corrupt or cut
   * short. Iterate once.
   */
  batches(): AsyncGenerator<DecodedEvent[], void, undefined>;
  /** The same, one event at a time. */
  events(): AsyncGenerator<DecodedEvent, void, undefined>;
  /**
   * Once the batches ended without an error: null if the stream ended with
   * its END record, else the one-line reason it is incomplete (with the byte
   * offset where it stops). Null while batches are still coming.
   */
  incomplete(): string | null;
}

/** A byte source that also copies its bytes to a file as they pass. */
async function* tee(source: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    for await (const chunk of source) {
      // Synchronous so the recording holds everything seen even if we die next.
      try {
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      } catch (e) {
        throw new Error(writeFailure(`-w ${path}`, e));
      }
      yield chunk;
    }
  } finally {
    closeSync(fd);
  }
}

/** Events per batch handed to consumers. */
const SLICE = 256;
/** Bytes of a read handed to the parser at a time. */
const FEED = 1 << 15;

/** Builds the pipeline over any byte source (a Readable is one). */
export async function openPipeline(source: AsyncIterable<Uint8Array>, opts: PipelineOptions): Promise<Pipeline> {
  const bytes = opts.recordTo !== undefined ? tee(source, opts.recordTo) : source;
  const it = bytes[Symbol.asyncIterator]();
  // Records go only to the decoder and on inside events (never spread): views are safe.
  const parser = new RecordingParser({ views: true });
  // Records that arrived with the header wait for the first batch.
  let first: TraceRecord[] = [];
  while (parser.header === null) {
    const r = await it.next();
    if (r.done) {
      parser.finish(); // throws: empty input or truncated header
      break;
    }
    first = parser.push(r.value);
    if (parser.header === null && parser.error) throw parser.error;
  }
  const header = parser.header as unknown as RecordingHeader;
  const decoder = opts.decoder ? opts.decoder(header) : createDecoder(header, { registry: registry() });
  const onError = opts.onDecodeError;

  function decodeSome(records: TraceRecord[], from: number, to: number): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      try {
        out.push(decoder.decode(r));
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (!onError) throw new Error(`cannot decode the record at byte ${r.offset}: ${err.message}`);
        onError(r, err);
      }
    }
    return out;
  }

  async function* batches(): AsyncGenerator<DecodedEvent[], void, undefined> {
    // Every complete record is delivered before a corruption error is thrown.
    let records = first;
    first = [];
    let chunk: Uint8Array | null = null;
    let pos = 0;
    for (;;) {
      // Records and events die young (cheap for the GC) when only a few
      // hundred are alive at once: a large read is parsed a slice at a time
      // and its events handed on in small batches, instead of all of a
      // chunk's records and events surviving until the last one is printed.
      for (let from = 0; from < records.length; from += SLICE) {
        const out = decodeSome(records, from, Math.min(records.length, from + SLICE));
        if (out.length > 0) yield out;
      }
      if (parser.error) break;
      if (chunk === null || pos >= chunk.length) {
        const r = await it.next();
        if (r.done) break;
        chunk = r.value;
        pos = 0;
      }
      const end = Math.min(chunk.length, pos + FEED);
      records = parser.push(chunk.subarray(pos, end));
      pos = end;
    }
    if (parser.error && it.return) await it.return();
    parser.finish();
    finished = true;
  }
  async function* events(): AsyncGenerator<DecodedEvent, void, undefined> {
    for await (const b of batches()) yield* b;
  }
  let finished = false;
  const incomplete = (): string | null => (finished && !parser.ended ? incompleteMessage(parser.offset) : null);
  return { header, batches, events, incomplete };
}

/**
 * A recording file as a pipeline (1 MiB reads). A file that cannot be one
 * (missing, a directory, empty) is refused with recordingFileProblem's words.
 */
export function openRecordingPipeline(path: string, opts: PipelineOptions): Promise<Pipeline> {
  const problem = recordingFileProblem(path);
  if (problem !== null) return Promise.reject(new Error(problem));
  return openPipeline(createReadStream(path, { highWaterMark: 1 << 20 }), opts);
}

/** Callback style: feeds every batch to `consume`, awaiting it before reading on. */
export async function drain(p: Pipeline, consume: (batch: DecodedEvent[]) => void | Promise<void>): Promise<void> {
  for await (const b of p.batches()) await consume(b);
}

/** Capture rules for tracing on this host, derived from the decoders. */
export function liveCaptureRules(): CaptureRule[] {
  return captureRules(hostArch(), registry());
}
