// TUI benchmarks (not part of npm test). Run after a build:
//   node dist/bench/tui.js [events-for-open=1000000]
//   node --expose-gc dist/bench/tui.js --case open-distinct FILE N [no-scroll]   (one case)
// The screen draws into a discarding pseudo-terminal stream (160×48), so what
// is measured is our work plus blessed's, not a terminal emulator's.
// Targets: ingest ≥ 20,000 events/s while drawing ≤ 30 frames/s; key-press
// redraw < 100 ms while streaming; open a 1,000,000-event recording < 3 s;
// scroll it end to end with RSS < 500 MB. The open case runs on an EEH
// recording (repeated GET_STATE polls, as a recovery session looks) and on
// one of distinct MAP/UNMAP_DMA calls (nothing repeats: the costly case).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tuiDeps } from '../src/commands/tui.js';
import type { DecodedEvent } from '../src/decode/types.js';
import { openPipeline } from '../src/session/pipeline.js';
import { TuiApp, type ScreenIO } from '../src/tui/app.js';
import type { SourceSink, TuiSource } from '../src/tui/source.js';
import { FileSource } from '../src/tui/sources.js';
import { writeDmaRecording, writeEehRecording } from '../test/tui/recording.js';

const COLS = 160;
const ROWS = 48;

function fakeTerminal(): ScreenIO & { input: PassThrough; output: PassThrough; bytes: () => number } {
  let bytes = 0;
  const output = new PassThrough();
  output.on('data', (c: Buffer) => (bytes += c.length));
  Object.assign(output, { columns: COLS, rows: ROWS, isTTY: true });
  const input = new PassThrough();
  Object.assign(input, { isTTY: true, setRawMode: () => input });
  return { input, output, terminal: 'xterm-256color', bytes: () => bytes };
}

const deps = () => tuiDeps(null);

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

/** Replays already-decoded events in batches (like the pipeline): at full speed, or `perSecond`. */
class ReplaySource implements TuiSource {
  mode = 'spawn' as const;
  title = 'bench replay';
  stopped = false;
  constructor(private readonly events: DecodedEvent[], private readonly total: number, private readonly perSecond = 0) {}
  pids() { return [1]; }
  detach() { this.stopped = true; }
  async run(sink: SourceSink): Promise<void> {
    const n = this.events.length;
    const t0 = Date.now();
    for (let i = 0; i < this.total && !this.stopped; i++) {
      const ev = this.events[i % n] as DecodedEvent;
      sink.event({ ...ev, seq: i } as DecodedEvent);
      if (i % 512 === 511) {
        if (this.perSecond > 0) {
          const due = t0 + ((i + 1) * 1000) / this.perSecond;
          await sleep(Math.max(0, due - Date.now()));
        } else await tick();
      }
    }
  }
}

async function decodedSample(file: string): Promise<DecodedEvent[]> {
  const p = await openPipeline(createReadStream(file), {});
  const out: DecodedEvent[] = [];
  for await (const b of p.batches()) out.push(...b);
  return out.filter((e) => e.kind === 'ioctl');
}

async function ingest(sample: DecodedEvent[]): Promise<void> {
  const N = 300_000;
  const term = fakeTerminal();
  const app = new TuiApp(new ReplaySource(sample, N));
  const t0 = process.hrtime.bigint();
  void app.run(term);
  while (app.store.length < N) await sleep(5);
  const t = ms(t0);
  await sleep(60);
  console.log(`ingest (decoded events → store, drawing live): ${Math.round(N / (t / 1000)).toLocaleString('en')} events/s; ${app.frames} frames in ${(t / 1000).toFixed(2)} s = ${((app.frames - 1) / (t / 1000)).toFixed(1)} frames/s after the first, ${(app.drawTotalMs / Math.max(1, app.frames)).toFixed(1)} ms per frame`);
  app.quit();
}

async function ingestFile(file: string, n: number): Promise<void> {
  const term = fakeTerminal();
  const app = new TuiApp(new FileSource(deps(), file, (p) => createReadStream(p, { highWaterMark: 1 << 16 })));
  const t0 = process.hrtime.bigint();
  void app.run(term);
  while (app.store.length < n && app.state === 'running') await sleep(5);
  const t = ms(t0);
  if (app.state === 'error') throw new Error(`${file}: ${app.view.message}`);
  console.log(`ingest from a recording (read + decode + audit + store, drawing live): ${Math.round(n / (t / 1000)).toLocaleString('en')} events/s, ${((app.frames - 1) / (t / 1000)).toFixed(1)} frames/s (10/s while loading)`);
  app.quit();
}

async function keyLatency(sample: DecodedEvent[]): Promise<void> {
  const term = fakeTerminal();
  // A steady 50,000 events/s stream for the whole measurement.
  const app = new TuiApp(new ReplaySource(sample, 10_000_000, 50_000));
  let frameAt = 0n;
  const lat: number[] = [];
  const opts = (app as unknown as { opts: { onFrame?: () => void } }).opts;
  opts.onFrame = () => { frameAt = process.hrtime.bigint(); };
  void app.run(term);
  await sleep(300);
  const keys = ['k', 'j', '/', 'x', '\x1b', 'g', 'G', '\t', '\t', '\t', '\t'];
  for (let i = 0; i < 40; i++) {
    const before = frameAt;
    const t0 = process.hrtime.bigint();
    term.input.write(keys[i % keys.length] as string);
    while (frameAt === before || frameAt < t0) await new Promise<void>((r) => setImmediate(r));
    lat.push(Number(frameAt - t0) / 1e6);
    await sleep(37);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1);
  console.log(`key press → redrawn frame while streaming (${app.store.length.toLocaleString('en')} events in): median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
  app.quit();
}

/** Keys pressed while a large recording loads: each must get its frame at once (loading draws only 10 frames/s). */
async function keysWhileLoading(file: string): Promise<void> {
  const term = fakeTerminal();
  const app = new TuiApp(new FileSource(deps(), file, (p) => createReadStream(p, { highWaterMark: 1 << 16 })));
  let frameAt = 0n;
  const opts = (app as unknown as { opts: { onFrame?: () => void } }).opts;
  opts.onFrame = () => { frameAt = process.hrtime.bigint(); };
  void app.run(term);
  await sleep(200);
  const lat: number[] = [];
  const keys = ['k', 'j', 'g', 'G', '\t', '\t', '\t', '\t'];
  for (let i = 0; i < 30 && app.state === 'running'; i++) {
    const before = frameAt;
    const t0 = process.hrtime.bigint();
    term.input.write(keys[i % keys.length] as string);
    while (frameAt === before || frameAt < t0) await tick();
    lat.push(Number(frameAt - t0) / 1e6);
    await sleep(37);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1);
  console.log(`key press → redrawn frame while a recording loads (${lat.length} keys, ${app.store.length.toLocaleString('en')} events in by the last): median ${q(0.5)} ms, max ${q(1)} ms`);
  app.quit();
}

async function openBig(file: string, n: number, what = 'recording', andScroll = true): Promise<void> {
  const term = fakeTerminal();
  const app = new TuiApp(new FileSource(deps(), file, (p) => createReadStream(p, { highWaterMark: 1 << 16 })));
  const t0 = process.hrtime.bigint();
  let firstFrame = 0;
  const opts = (app as unknown as { opts: { onFrame?: () => void } }).opts;
  opts.onFrame = () => { if (!firstFrame && app.store.length > 0) firstFrame = ms(t0); };
  void app.run(term);
  while (app.store.length < n && app.state === 'running') await sleep(10);
  if (app.state === 'error') throw new Error(`${file}: ${app.view.message}`);
  const all = ms(t0);
  console.log(`open ${n.toLocaleString('en')}-event ${what} (${mb(statSync(file).size)}): first rows on screen ${firstFrame.toFixed(0)} ms, all events in ${(all / 1000).toFixed(2)} s`);
  if (!andScroll) {
    app.quit();
    return;
  }
  // Scroll end to end: page through evenly spaced positions, each one drawn.
  const v = app.view;
  v.setFocus('list');
  const t1 = process.hrtime.bigint();
  const steps = 2000;
  let frames = 0;
  const drawn0 = app.drawTotalMs;
  opts.onFrame = () => { frames++; };
  v.home();
  for (let s = 0; s <= steps; s++) {
    v.select(Math.floor((s / steps) * (v.count - 1)));
    term.input.write('j');
    const f = frames;
    while (frames === f) await sleep(1);
  }
  const scroll = ms(t1);
  global.gc?.();
  const m = process.memoryUsage();
  console.log(`scroll top → bottom in ${steps} jumps, each drawn: ${(scroll / steps).toFixed(1)} ms per step (frame pacing included), ${((app.drawTotalMs - drawn0) / steps).toFixed(1)} ms of drawing; RSS ${mb(m.rss)} (JS heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, typed arrays ${mb(m.arrayBuffers)}, external ${mb(m.external)})`);
  app.quit();
}

// Each case runs in its own process, so one case's garbage (or RSS high-water
// mark) never shows up in another's figures; recordings are written by the
// parent for the same reason.
async function runCase(name: string, file: string, n: number, scroll: boolean): Promise<void> {
  if (name === 'ingest' || name === 'keys') {
    const sample = await decodedSample(file);
    await (name === 'ingest' ? ingest(sample) : keyLatency(sample));
  } else if (name === 'file') await ingestFile(file, n);
  else if (name === 'keys-loading') await keysWhileLoading(file);
  else if (name === 'open-distinct') await openBig(file, n, 'recording of distinct MAP/UNMAP_DMA calls', scroll);
  else await openBig(file, n, 'EEH recording (repeated GET_STATE polls)', scroll);
}

async function main(): Promise<void> {
  const [flag, name, file, count, extra] = process.argv.slice(2);
  if (flag === '--case' && name && file) {
    // `--case open[-distinct] FILE N no-scroll`: the open alone, for side-by-side runs.
    await runCase(name, file, Number(count), extra !== 'no-scroll');
    process.exit(0);
  }
  const n = Number(flag ?? 1_000_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-tui-'));
  try {
    const cases: [string, number][] = [['ingest', 1024], ['keys', 1024], ['file', 200_000], ['keys-loading', n], ['open', n], ['open-distinct', n]];
    for (const [c, filler] of cases) {
      const file = path.join(dir, `${c}.vft`);
      // Both open cases hold n ioctls besides their few setup calls.
      let events = filler;
      if (c === 'open-distinct') {
        writeDmaRecording(file, Math.floor(filler / 2));
        events = 4 + 2 * Math.floor(filler / 2);
      } else writeEehRecording(file, filler);
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--case', c, file, String(events)], { stdio: 'inherit' });
      if (r.status !== 0) console.log(`${c}: failed (status ${r.status ?? r.signal})`);
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
