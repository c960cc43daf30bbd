// Attach overhead: a busy process (getppid paced to about 1M syscalls/s by
// work in between, a VFIO ioctl every EVERY syscalls) measures its own
// syscall rate over a fixed window, alone
// and with `vfiotrace -p` attached on each backend. The window starts on
// SIGUSR1, sent once the tracer has written the attach lines, so attaching
// itself is not in it. Variants run round-robin, medians over the repeats.
//
//   node dist/bench/run.js --only attach   (or: node dist/bench/attach.js)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxArgv } from '../src/trace/sandbox.js';
import { type BenchReport, type Figure, median } from './figures.js';
import { bpfLoads, buildWorkloads, CLI, tracingUnavailable, WORKLOADS } from './tracing.js';

const LOAD = path.join(WORKLOADS, 'build', 'ioctl_load');
const EVERY = 3000;
const WINDOW_MS = 2000;
const DEADLINE_MS = 60_000;

type Variant = 'untraced' | 'bpf' | 'ptrace';

interface Window {
  rate: number;
  vfio: number;
  traced: number;
}

/** Resolves with the first stdout line matching `re` (or rejects after the deadline). */
function line(child: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

async function measure(variant: Variant, dir: string, run: number, work: number): Promise<Window> {
  const argv = sandboxArgv([LOAD, 'spin', String(EVERY), String(WINDOW_MS), String(work)]);
  const load = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const result = line(load, /ioctl_load: spin syscalls=(\d+) vfio=(\d+) elapsed_ns=(\d+)/, 'result line');
  await line(load, /ready/, 'ready line');
  const trace = path.join(dir, `${variant}-${run}.txt`);
  let tracer: ChildProcess | null = null;
  if (variant !== 'untraced') {
    // The sandbox's unshare and shell exec the workload: its pid is the child's.
    tracer = spawn(process.execPath, [CLI, '--backend', variant, '-o', trace, '-p', String(load.pid)], { stdio: 'ignore' });
    await until(() => existsSync(trace) && /attached/.test(readFileSync(trace, 'utf8')), `vfiotrace --backend ${variant} to attach`);
  }
  load.kill('SIGUSR1');
  const m = await result;
  await exited(load);
  let traced = 0;
  if (tracer) {
    tracer.kill('SIGINT');
    await exited(tracer);
    traced = (readFileSync(trace, 'utf8').match(/^(\[pid +\d+\] )?ioctl\(/gm) ?? []).length;
  }
  return { rate: Number(m[1]) / (Number(m[3]) / 1e9), vfio: Number(m[2]), traced };
}

export interface AttachOptions {
  repeats?: number;
}

export async function run(opts: AttachOptions = {}): Promise<BenchReport> {
  const bench = 'attach';
  const repeats = opts.repeats ?? 5;
  const notes: string[] = [];
  const figures: Figure[] = [];
  const unavailable = tracingUnavailable();
  if (unavailable !== null) return { bench, figures, notes, skipped: unavailable };
  buildWorkloads();
  const bpf = bpfLoads();
  const variants: Variant[] = bpf ? ['untraced', 'bpf', 'ptrace'] : ['untraced', 'ptrace'];
  if (!bpf) notes.push('the eBPF backend cannot load here: bpf figures left out');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-attach-'));
  try {
    const runs: Record<Variant, Window[]> = { untraced: [], bpf: [], ptrace: [] };
    // One pacing for every run: the work per syscall that gives ~1M syscalls/s untraced (median of 3).
    const paced = [0, 1, 2].map(() => Number(/work=(\d+)/.exec(spawnSync(LOAD, ['pace', '1000000'], { encoding: 'utf8' }).stdout)?.[1] ?? 0));
    const work = median(paced);
    for (let i = 0; i < repeats; i++) for (const v of variants) runs[v].push(await measure(v, dir, i, work));
    const rate = (v: Variant) => median(runs[v].map((w) => w.rate));
    notes.push(`a process calling getppid (paced to ~1M/s untraced) with a VFIO ioctl every ${EVERY} syscalls, its rate over ${WINDOW_MS} ms, median of ${repeats}:`);
    for (const v of variants) {
      const seen = v === 'untraced' ? '' : `; VFIO calls in the trace / made in the window: ${runs[v].map((w) => `${w.traced}/${w.vfio}`).join(' ')}`;
      notes.push(`  ${v.padEnd(9)} ${(rate(v) / 1e6).toFixed(2)} M syscalls/s   (runs: ${runs[v].map((w) => (w.rate / 1e6).toFixed(2)).join(' ')})${seen}`);
      figures.push({ bench, name: `attached: ${v} syscalls/s`, value: rate(v), unit: 'syscalls/s' });
    }
    for (const v of variants.filter((x) => x !== 'untraced')) {
      figures.push({ bench, name: `attached: ${v} rate / untraced`, value: rate(v) / rate('untraced'), unit: '×', ...(v === 'bpf' ? { target: { op: '>=' as const, value: 0.8 } } : {}) });
      // Every VFIO call of the window (and those before it) is in the trace.
      const missing = runs[v].filter((w) => w.traced < w.vfio).length;
      if (missing > 0) notes.push(`  ${v}: ${missing} run(s) traced fewer VFIO calls than the window made`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { bench, figures, notes };
}

// Standalone: node dist/bench/attach.js
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run({ repeats: Number(process.env.REPEATS ?? 5) }).then(
    (r) => console.log(r.skipped ? `skipped: ${r.skipped}` : [...r.notes, ...r.figures.map((f) => `${f.name}: ${f.value.toFixed(3)} ${f.unit}`)].join('\n')),
    (e: unknown) => {
      console.error(`attach bench: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
