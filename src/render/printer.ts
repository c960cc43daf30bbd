// Turns decoded events into output according to the user's options: the -e
// filter first, then either the -c summary or text/JSON lines.

import type { DecodedEvent } from '../decode/types.js';
import { eehSummaryLines } from '../model/eehSummary.js';
import { eehTracker } from '../model/eehTimeline.js';
import { SessionModel } from '../model/session.js';
import type { EndRecord, RecordingHeader } from '../trace/events.js';
import type { Pipeline } from '../session/pipeline.js';
import { OwnProcesses } from '../trace/wrapper.js';
import type { EventFilter } from './filter.js';
import { renderJson } from './json.js';
import type { Output } from './output.js';
import { Summary } from './summary.js';
import { type TextOptions, TextRenderer } from './text.js';

export interface PrintOptions {
  json: boolean;
  summary: boolean;
  filter: EventFilter | null;
  text: Partial<TextOptions>;
  /** Live traces: write out after every batch so lines appear as calls happen. */
  flushEachBatch?: boolean;
}

export class Printer {
  private readonly text: TextRenderer | null;
  readonly summary: Summary | null;
  /** With -c: the freeze episodes told under the table (sees every event, filtered or not). */
  private readonly eeh: ReturnType<typeof eehTracker> | null;
  /** ioctl events that passed the filter. */
  shown = 0;
  /** Stop early once nobody reads the output (`show … | head`); a live trace keeps draining. */
  get outputClosed(): boolean {
    return this.out.closed;
  }

  /** The END record, once seen. */
  end: EndRecord | null = null;
  /** What vfiotrace's own wrapper around a command it started did: never the command's, never printed. */
  private readonly wrapper: OwnProcesses;

  constructor(
    header: RecordingHeader,
    private readonly opts: PrintOptions,
    private readonly out: Output,
  ) {
    this.summary = opts.summary ? new Summary() : null;
    this.eeh = opts.summary && !opts.json ? eehTracker(new SessionModel()) : null;
    this.text = opts.json || opts.summary ? null : new TextRenderer(header, opts.text);
    this.wrapper = OwnProcesses.forHeader(header);
  }

  /** Handles a batch; resolves when the output can take more (back-pressure). */
  async batch(events: readonly DecodedEvent[]): Promise<void> {
    const { filter } = this.opts;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (ev.kind === 'end') this.end = ev.record;
      if (this.wrapper.active && this.wrapper.isOwn(ev.record)) continue;
      if (this.eeh) this.eeh.feed(ev);
      if (filter !== null && !filter(ev)) continue;
      if (ev.kind === 'ioctl') this.shown++;
      if (this.summary) this.summary.add(ev);
      else if (this.text) this.out.write(this.text.render(ev));
      else this.out.write(renderJson(ev));
    }
    if (this.opts.flushEachBatch) await this.out.flush();
    else await this.out.flushIfFull();
  }

  /** Writes what is due at the end (the -c table) and flushes. */
  async finish(): Promise<void> {
    if (this.summary) this.out.write(this.opts.json ? this.summary.json() : this.summary.text());
    if (this.eeh) {
      this.eeh.timeline.finish();
      const lines = eehSummaryLines(this.eeh.timeline.timelines(), true);
      if (lines.length > 0) this.out.write('\nEEH timeline\n' + lines.map((l) => `  ${l}\n`).join(''));
    }
    await this.out.flush();
  }
}

/**
 * Prints a whole pipeline. Returns the error that stopped it (a corrupt or
 * cut-short stream) after everything before it has been printed, or null.
 */
export async function printAll(p: Pipeline, printer: Printer, stopWhenClosed = false): Promise<Error | null> {
  let error: Error | null = null;
  try {
    for await (const b of p.batches()) {
      await printer.batch(b);
      if (stopWhenClosed && printer.outputClosed) return null;
    }
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  await printer.finish();
  return error;
}
