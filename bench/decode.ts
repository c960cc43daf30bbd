// Decoding throughput: a synthesized 1,000,000-event recording (see
// decodeRecording.ts) through the path `vfiotrace show` takes — reader →
// decoder → printer (text or JSON lines) → buffered output — into /dev/null.
// Each mode runs in a fresh Node process so its peak RSS is its own; the
// real CLI (`vfiotrace show FILE -o /dev/null`) is timed as well.
//
//   node dist/bench/run.js --only decode   (or: node dist/bench/decode.js [events])

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { outputFlags, printOptions, filterVocabulary } from '../src/render/cliOptions.js';
import { Output } from '../src/render/output.js';
import { Printer, printAll } from '../src/render/printer.js';
import { createReadStream } from 'node:fs';
import { openPipeline, openRecordingPipeline } from '../src/session/pipeline.js';
import { writeDecodeRecording, writeDistinctRecording } from './decodeRecording.js';
import { type BenchReport, type Figure, repoRoot } from './figures.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = repoRoot(import.meta.url);

export interface DecodeOptions {
  events?: number;
}

interface WorkerResult {
  events: number;
  seconds: number;
  /** User + system CPU time: less sensitive than wall time to other work on the machine. */
  cpuSeconds: number;
  maxRssMb: number;
}

type Mode = 'text' | 'json';

/** The same 1 MiB reads as openRecordingPipeline, handed to the parser 16 KiB at a time. */
async function* sliced(file: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let o = 0; o < chunk.length; o += 16384) yield chunk.subarray(o, o + 16384);
  }
}

/**
 * Worker side: the show path over FILE, timed from opening the file to the
 * last flush. `sliced` is a diagnostic variant: smaller decoded batches (see
 * docs/benchmarks.md, "Decoding").
 */
async function worker(mode: Mode, file: string, slicedInput: boolean): Promise<WorkerResult> {
  const flags = outputFlags(mode === 'json' ? { json: true } : {});
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const pipeline = slicedInput ? await openPipeline(sliced(file), {}) : await openRecordingPipeline(file, {});
  const out = Output.file('/dev/null');
  const printer = new Printer(pipeline.header, printOptions(flags, filterVocabulary()), out);
  const error = await printAll(pipeline, printer);
  await out.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  if (error) throw error;
  if (printer.end === null) throw new Error('no END record reached');
  return { events: printer.shown, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

function runWorker(mode: Mode, file: string, slicedInput = false): WorkerResult {
  // The young generation bin/vfiotrace.js's shebang gives every installed run, so the figures are what users get.
  const r = spawnSync(process.execPath, ['--max-semi-space-size=64', SELF, '--worker', mode, file, ...(slicedInput ? ['sliced'] : [])], { encoding: 'utf8', timeout: 600_000 });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`decode worker (${mode}) failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 400)}`);
  return JSON.parse(line) as WorkerResult;
}

/** The real CLI, wall time including Node start-up; its peak RSS from GNU time when present. */
function runCli(mode: Mode, file: string): { seconds: number; maxRssMb: number | null } {
  const cli = [path.join(ROOT, 'bin', 'vfiotrace.js'), 'show', file, '-o', '/dev/null', ...(mode === 'json' ? ['--json'] : [])];
  const timeBin = '/usr/bin/time';
  const useTime = spawnSync(timeBin, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  const argv = useTime ? [timeBin, '-f', 'maxrss_kb=%M', process.execPath, ...cli] : [process.execPath, ...cli];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`vfiotrace show (${mode}) failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 400)}`);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr ?? '');
  return { seconds, maxRssMb: m ? Number(m[1]) / 1024 : null };
}

export async function run(opts: DecodeOptions = {}): Promise<BenchReport> {
  const bench = 'decode';
  const n = opts.events ?? 1_000_000;
  const notes: string[] = [];
  const figures: Figure[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-decode-'));
  try {
    const file = path.join(dir, 'session.vft');
    const t0 = process.hrtime.bigint();
    const bytes = writeDecodeRecording(file, n);
    notes.push(`recording: ${n.toLocaleString('en')} ioctl events, ppc64le sPAPR v2 + EEH session, ${(bytes / 1048576).toFixed(0)} MiB, written in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    for (const [mode, target] of [['text', 1_000_000], ['json', 200_000]] as const) {
      const w = runWorker(mode, file);
      if (w.events !== n) throw new Error(`${mode}: printed ${w.events} events, expected ${n}`);
      const rate = w.events / w.seconds;
      figures.push({ bench, name: `${mode}: events/s (reader → decoder → ${mode === 'text' ? 'one-line text' : 'full JSON'})`, value: rate, unit: 'events/s', target: { op: '>=', value: target } });
      figures.push({ bench, name: `${mode}: events per CPU-second`, value: w.events / w.cpuSeconds, unit: 'events/s', note: 'user + system CPU time' });
      figures.push({ bench, name: `${mode}: peak RSS`, value: w.maxRssMb, unit: 'MB' });
      notes.push(`${mode}: ${w.events.toLocaleString('en')} events in ${w.seconds.toFixed(2)} s = ${Math.round(rate).toLocaleString('en')} events/s (${Math.round(w.events / w.cpuSeconds).toLocaleString('en')} per CPU-second), peak RSS ${w.maxRssMb.toFixed(0)} MB`);
      const s = runWorker(mode, file, true);
      if (s.events !== n) throw new Error(`${mode} (sliced): printed ${s.events} events, expected ${n}`);
      figures.push({ bench, name: `${mode}: events/s, parser fed 16 KiB slices`, value: s.events / s.seconds, unit: 'events/s', note: 'diagnostic: smaller decoded batches' });
      notes.push(`${mode}, parser fed 16 KiB slices (diagnostic): ${Math.round(s.events / s.seconds).toLocaleString('en')} events/s (${Math.round(s.events / s.cpuSeconds).toLocaleString('en')} per CPU-second), peak RSS ${s.maxRssMb.toFixed(0)} MB`);
      const c = runCli(mode, file);
      figures.push({ bench, name: `${mode}: \`vfiotrace show${mode === 'json' ? ' --json' : ''}\` wall`, value: c.seconds, unit: 's', note: 'whole CLI, incl. Node start-up' });
      notes.push(`${mode}: vfiotrace show${mode === 'json' ? ' --json' : ''} -o /dev/null: ${c.seconds.toFixed(2)} s wall (${Math.round(n / c.seconds).toLocaleString('en')} events/s)${c.maxRssMb !== null ? `, peak RSS ${c.maxRssMb.toFixed(0)} MB` : ''}`);
    }
    // The same show path over calls that never repeat (the call memo never
    // hits): what a session of DMA maps at fresh addresses costs.
    rmSync(file, { force: true });
    const distinct = path.join(dir, 'distinct.vft');
    const t1 = process.hrtime.bigint();
    const dBytes = writeDistinctRecording(distinct, n);
    notes.push(`no-repeat recording: ${n.toLocaleString('en')} ioctl events, none repeating an earlier one (MAP/UNMAP_DMA at new IOVAs, SET_IRQS with new eventfds, infos and EEH ops at new buffer addresses), ${(dBytes / 1048576).toFixed(0)} MiB, written in ${(Number(process.hrtime.bigint() - t1) / 1e9).toFixed(1)} s`);
    for (const mode of ['text', 'json'] as const) {
      const w = runWorker(mode, distinct);
      if (w.events !== n) throw new Error(`${mode} (no repeats): printed ${w.events} events, expected ${n}`);
      figures.push({ bench, name: `${mode}, no repeats: events/s`, value: w.events / w.seconds, unit: 'events/s', target: { op: '>=', value: mode === 'text' ? 1_000_000 : 400_000 } });
      figures.push({ bench, name: `${mode}, no repeats: events per CPU-second`, value: w.events / w.cpuSeconds, unit: 'events/s', note: 'user + system CPU time' });
      notes.push(`${mode}, no repeats: ${w.events.toLocaleString('en')} events in ${w.seconds.toFixed(2)} s = ${Math.round(w.events / w.seconds).toLocaleString('en')} events/s (${Math.round(w.events / w.cpuSeconds).toLocaleString('en')} per CPU-second), peak RSS ${w.maxRssMb.toFixed(0)} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { bench, figures, notes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const a = process.argv.slice(2);
  if (a[0] === '--write-distinct') {
    // Diagnostic: write the no-repeat recording to a file for profiling.
    console.log(writeDistinctRecording(a[1] ?? 'distinct.vft', Number(a[2] ?? 1_000_000)));
  } else if (a[0] === '--worker') {
    worker(a[1] === 'json' ? 'json' : 'text', a[2] ?? '', a[3] === 'sliced').then(
      (r) => console.log(JSON.stringify(r)),
      (e: unknown) => {
        console.error((e as Error).message);
        process.exitCode = 1;
      },
    );
  } else {
    run(a[0] ? { events: Number(a[0]) } : {}).then(
      (r) => console.log([...r.notes].join('\n')),
      (e: unknown) => {
        console.error(`decode bench: ${(e as Error).message}`);
        process.exitCode = 1;
      },
    );
  }
}
