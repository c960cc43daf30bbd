// Tracer overhead: the same workload untraced, under strace and under
// vfiotrace on each capture backend (bpf, ptrace), each inside the same private /dev (src/trace/sandbox.ts) so the
// VFIO paths exist and every variant pays the same sandbox set-up. Two
// measures per run: wall time of the whole command, and the workload's own
// loop time (CLOCK_MONOTONIC inside the C program, so Node's start-up is not
// in it). Variants run round-robin, medians over the repeats.
//
//   node dist/bench/run.js --only tracer   (or: node dist/bench/tracer.js)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxArgv } from '../src/trace/sandbox.js';
import { type BenchReport, type Figure, median } from './figures.js';
import { bpfLoads, buildWorkloads, CLI, tracingUnavailable, WORKLOADS } from './tracing.js';

const LOAD = path.join(WORKLOADS, 'build', 'ioctl_load');
const RUN_TIMEOUT_MS = 300_000;

export interface TracerOptions {
  repeats?: number;
  /** Scales the workload sizes down (e.g. 0.1) for a quick look; figures then differ. */
  scale?: number;
}

type Variant = 'untraced' | 'strace' | 'bpf' | 'ptrace';
const VARIANTS: readonly Variant[] = ['untraced', 'strace', 'bpf', 'ptrace'];
/** The backends vfiotrace is measured on; `bpf` only where it loads. */
type Backend = Extract<Variant, 'bpf' | 'ptrace'>;

interface Workload {
  key: string;
  title: string;
  args: string[];
  vfio: number;
  other: number;
  getppid: number;
}

interface RunResult {
  wallMs: number;
  loopMs: number;
  /** CPU of the workload process alone over its loop: seccomp filter and stop costs, not the tracer's work. */
  loopCpuMs: number;
  /** User + system CPU of the whole process tree (tracer and tracee), when GNU time is there. */
  cpuMs: number | null;
}

const GNU_TIME = '/usr/bin/time';
let haveTime: boolean | null = null;
function gnuTime(): boolean {
  haveTime ??= spawnSync(GNU_TIME, ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0;
  return haveTime;
}

function workloads(scale: number): Workload[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const [v, o, g, only] = [n(2000), n(200_000), n(200_000), n(100_000)];
  return [
    { key: 'mixed', title: `${v} VFIO among ${o} other ioctls + ${g} getppid`, args: ['mixed', String(v), String(o), String(g)], vfio: v, other: o, getppid: g },
    { key: 'vfio', title: `${only} VFIO ioctls back to back on 2 threads`, args: ['vfio', String(only), '2'], vfio: only, other: 0, getppid: 0 },
  ];
}

function commandFor(variant: Variant, load: string[], vfiotraceArgs: string[] = ['-o', '/dev/null']): string[] {
  switch (variant) {
    case 'untraced': return load;
    case 'strace': return ['strace', '-f', '--seccomp-bpf', '-e', 'trace=ioctl', '-o', '/dev/null', ...load];
    default: return [process.execPath, CLI, '--backend', variant, ...vfiotraceArgs, '--', ...load];
  }
}

interface Ran {
  wallMs: number;
  cpuMs: number | null;
  stdout: string;
  stderr: string;
  status: number | null;
  error?: Error;
}

function runSandboxed(cmd: string[]): Ran {
  // GNU time reports the CPU of every waited-for descendant: the tracer and the tracee.
  const dir = gnuTime() ? mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-')) : null;
  const timeFile = dir ? path.join(dir, 'time') : null;
  const argv = [...(timeFile ? [GNU_TIME, '-o', timeFile, '-f', 'cpu_s=%U+%S'] : []), ...sandboxArgv(cmd)];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, maxBuffer: 1 << 24 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let cpuMs: number | null = null;
  if (dir && timeFile) {
    const m = existsSync(timeFile) ? /cpu_s=([\d.]+)\+([\d.]+)/.exec(readFileSync(timeFile, 'utf8')) : null;
    if (m) cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
    rmSync(dir, { recursive: true, force: true });
  }
  return { wallMs, cpuMs, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, ...(r.error ? { error: r.error } : {}) };
}

const LINE = /ioctl_load: elapsed_ns=(\d+) cpu_ns=(\d+) vfio=(\d+) enotty=(\d+) other=(\d+) getppid=(\d+)/;

/** One measured run; throws with the command's own words when it went wrong. */
function measure(variant: Variant, w: Workload): RunResult {
  const r = runSandboxed(commandFor(variant, [LOAD, ...w.args]));
  const m = LINE.exec(r.stdout);
  if (r.error || r.status !== 0 || !m) {
    const why = r.error ? r.error.message : `exit ${String(r.status)}`;
    throw new Error(`${variant} on ${w.key}: ${why}: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  }
  const [vfio, enotty, other, ppid] = [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (vfio !== w.vfio || other !== w.other || ppid !== w.getppid) throw new Error(`${variant} on ${w.key}: workload counts differ: ${m[0]}`);
  // Every VFIO call must have reached a regular file in the private /dev.
  if (enotty !== vfio) throw new Error(`${variant} on ${w.key}: only ${enotty} of ${vfio} VFIO calls got ENOTTY`);
  return { wallMs: r.wallMs, loopMs: Number(m[1]) / 1e6, loopCpuMs: Number(m[2]) / 1e6, cpuMs: r.cpuMs };
}

/** Not timed: vfiotrace must print exactly one line per VFIO call and nothing for the others. */
function checkVfiotraceSees(backend: Backend, w: Workload, notes: string[]): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-'));
  try {
    const out = path.join(dir, 'trace.txt');
    const r = runSandboxed(commandFor(backend, [LOAD, ...w.args], ['-o', out]));
    const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => /^(\[pid +\d+\] )?ioctl\(/.test(l)).length : 0;
    if (r.status !== 0 || lines !== w.vfio) {
      throw new Error(`vfiotrace --backend ${backend} on ${w.key} printed ${lines} ioctl lines, expected ${w.vfio} (exit ${String(r.status)}): ${r.stderr.trim().slice(0, 300)}`);
    }
    notes.push(`check: vfiotrace --backend ${backend} printed ${lines} ioctl lines for ${w.key} (= the VFIO calls, none of the others; nothing lost)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function haveStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

const ms = (x: number) => `${x.toFixed(0)} ms`;

function byVariant<T>(make: () => T): Record<Variant, T> {
  return { untraced: make(), strace: make(), bpf: make(), ptrace: make() };
}

/**
 * The targets, on the workload's own loop time (start-up excluded):
 * bpf against strace and untraced; ptrace as before.
 */
function ratioFigures(bench: string, key: string, b: Backend, loop: (v: Variant) => number, figures: Figure[]): void {
  const vs = loop(b) / loop('strace');
  const vu = loop(b) / loop('untraced');
  const target = (bpf: number, ptrace: number) => ({ op: '<=' as const, value: b === 'bpf' ? bpf : ptrace });
  if (key === 'mixed') {
    figures.push({ bench, name: `mixed: ${b}/strace`, value: vs, unit: '×', target: target(0.1, 0.1) });
    figures.push({ bench, name: `mixed: ${b}/untraced`, value: vu, unit: '×', target: target(1.2, 1.5) });
  } else {
    figures.push({ bench, name: `vfio: ${b}/strace`, value: vs, unit: '×', target: target(0.2, 1.0) });
    figures.push({ bench, name: `vfio: ${b}/untraced`, value: vu, unit: '×', ...(b === 'bpf' ? { target: target(4, 4) } : {}) });
  }
}

export async function run(opts: TracerOptions = {}): Promise<BenchReport> {
  const bench = 'tracer';
  const repeats = opts.repeats ?? 5;
  const notes: string[] = [];
  const figures: Figure[] = [];
  const unavailable = tracingUnavailable();
  if (unavailable !== null) return { bench, figures, notes, skipped: unavailable };
  if (!haveStrace()) return { bench, figures, notes, skipped: 'strace not installed (needed for the side-by-side comparison)' };
  buildWorkloads();

  const variants = VARIANTS.filter((v) => v !== 'bpf' || bpfLoads());
  if (!variants.includes('bpf')) notes.push('the eBPF backend cannot load here: bpf figures left out');
  const backends = variants.filter((v): v is Backend => v === 'bpf' || v === 'ptrace');

  // Fixed costs, to read the wall times against: sandbox alone, and each tracer around `true`.
  const fixed = byVariant<number[]>(() => []);
  for (let i = 0; i < repeats; i++) {
    for (const v of variants) {
      const r = runSandboxed(commandFor(v, ['true']));
      if (r.status !== 0) throw new Error(`${v} around true failed: ${r.stderr.trim().slice(0, 300)}`);
      fixed[v].push(r.wallMs);
    }
  }
  notes.push(`start-up (sandbox + tracer around \`true\`, median): ${variants.map((v) => `${v} ${ms(median(fixed[v]))}`).join(', ')}`);
  for (const b of backends) figures.push({ bench, name: `start-up: vfiotrace --backend ${b} around \`true\``, value: median(fixed[b]), unit: 'ms', note: `sandbox alone ${ms(median(fixed.untraced))}` });

  for (const w of workloads(opts.scale ?? 1)) {
    for (const b of backends) checkVfiotraceSees(b, w, notes);
    const runs = byVariant<RunResult[]>(() => []);
    for (let i = 0; i < repeats; i++) for (const v of variants) runs[v].push(measure(v, w));
    const wall = (v: Variant) => median(runs[v].map((r) => r.wallMs));
    const loop = (v: Variant) => median(runs[v].map((r) => r.loopMs));
    const cpu = (v: Variant) => median(runs[v].map((r) => r.cpuMs ?? NaN));
    const loopCpu = (v: Variant) => median(runs[v].map((r) => r.loopCpuMs));
    const cpuText = (v: Variant) => `   workload CPU ${ms(loopCpu(v)).padStart(7)}${Number.isNaN(cpu(v)) ? '' : `   tree CPU ${ms(cpu(v)).padStart(8)}`}`;
    notes.push(`${w.key} (${w.title}), median of ${repeats}:`);
    for (const v of variants) notes.push(`  ${v.padEnd(9)} wall ${ms(wall(v)).padStart(8)}   workload ${ms(loop(v)).padStart(8)}${cpuText(v)}   (workload runs: ${runs[v].map((r) => r.loopMs.toFixed(0)).join(' ')})`);
    for (const v of variants) {
      figures.push({ bench, name: `${w.key}: ${v} wall`, value: wall(v), unit: 'ms' });
      figures.push({ bench, name: `${w.key}: ${v} workload`, value: loop(v), unit: 'ms' });
      figures.push({ bench, name: `${w.key}: ${v} workload CPU`, value: loopCpu(v), unit: 'ms', note: 'the workload process alone' });
      if (!Number.isNaN(cpu(v))) figures.push({ bench, name: `${w.key}: ${v} CPU (tracer + tracee)`, value: cpu(v), unit: 'ms' });
    }
    for (const b of backends) ratioFigures(bench, w.key, b, loop, figures);
    for (const b of backends) {
      const perCall = (loop(b) - loop('untraced')) / w.vfio * 1000;
      notes.push(`  added per traced VFIO call: vfiotrace --backend ${b} ${perCall.toFixed(2)} µs`);
    }
    notes.push(`  added per traced call: strace ${((loop('strace') - loop('untraced')) / (w.vfio + w.other) * 1000).toFixed(2)} µs per ioctl`);
  }
  return { bench, figures, notes };
}

// Standalone: node dist/bench/tracer.js
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run().then(
    (r) => console.log(r.skipped ? `skipped: ${r.skipped}` : [...r.notes, ...r.figures.map((f) => `${f.name}: ${f.value.toFixed(3)} ${f.unit}`)].join('\n')),
    (e: unknown) => {
      console.error(`tracer bench: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
