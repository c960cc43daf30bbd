// `npm run bench`: runs every benchmark in bench/ one after another (never in
// parallel: the machine has few cores and they would disturb each other),
// prints one table of figures with their targets, and writes
// bench/results.json. Not part of `npm test`.
//
//   node dist/bench/run.js [--only NAME[,NAME…]] [--repeats N] [--quick] [--out FILE]
//
// Benchmarks that only run as scripts (render, audit, tui) are started as
// child processes; their figures are read from the lines they print.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchReport, type Figure, type Target, passes, repoRoot } from './figures.js';

const ROOT = repoRoot(import.meta.url);

interface Options {
  only: string[] | null;
  repeats: number;
  quick: boolean;
  out: string;
}

/** A line pattern in a script's output that carries one figure. */
interface Extract {
  re: RegExp;
  name: string;
  unit: string;
  target?: Target;
  /** Index of the capture group with the number (default 1). */
  group?: number;
}

const num = (s: string) => Number(s.replace(/,/g, ''));

const SCRIPTS: Record<string, { file: string; args?: string[]; extract: Extract[] }> = {
  emulate: {
    file: 'emulate.js',
    extract: [
      { re: /^emulated round trip: ([\d.]+) us\/call/m, name: 'emulated ioctl round trip (seccomp listener)', unit: 'µs', target: { op: '<=', value: 10 } },
      { re: /^ptrace: ([\d.]+) us\/call/m, name: 'emulated ioctl round trip (ptrace stops)', unit: 'µs' },
    ],
  },
  guest: {
    file: 'guestBoot.js',
    extract: [
      { re: /^pseries boot to \/init, bare: ([\d.]+) s/m, name: 'pseries guest boot, bare', unit: 's' },
      { re: /^pseries boot with vfio-pci under emulate \(notify\): [\d.]+ s, ([\d.]+)x bare/m, name: 'pseries guest boot with vfio-pci under emulate', unit: '×', target: { op: '<=', value: 1.5 } },
    ],
  },
  render: {
    file: 'render.js',
    extract: [
      { re: /^text, integer argument: ([\d,]+) events\/s/m, name: 'text, integer argument', unit: 'events/s', target: { op: '>=', value: 1_000_000 } },
      { re: /^text, struct argument: ([\d,]+) events\/s/m, name: 'text, struct argument', unit: 'events/s', target: { op: '>=', value: 1_000_000 } },
      { re: /^text -tt -T, struct: ([\d,]+) events\/s/m, name: 'text -tt -T, struct', unit: 'events/s' },
      { re: /^json, integer argument: ([\d,]+) events\/s/m, name: 'json, integer argument', unit: 'events/s', target: { op: '>=', value: 200_000 } },
      { re: /^json, struct argument: ([\d,]+) events\/s/m, name: 'json, struct argument', unit: 'events/s', target: { op: '>=', value: 200_000 } },
    ],
  },
  reader: {
    file: 'reader.js',
    extract: [
      { re: /^ioctl \(8-byte payload, fd path\): \d+ records, .*?, (\d+) records\/s/m, name: 'parse small IOCTL records', unit: 'events/s' },
      { re: /^one 8 MiB-in\/8 MiB-out call, 32 KiB feeds: .* in ([\d.]+) ms/m, name: 'parse one 16 MiB record', unit: 'ms' },
      { re: /^256 MiB length claim .* in ([\d.]+) ms/m, name: 'refuse a 256 MiB length claim', unit: 'ms' },
    ],
  },
  decoder: {
    file: 'decoder.js',
    extract: [
      { re: /^decode, mix of the above: ([\d,]+) events\/s wall/m, name: 'decode alone, mix', unit: 'events/s' },
      { re: /^decode \+ text line, mix: ([\d,]+) events\/s wall/m, name: 'decode + text, mix', unit: 'events/s' },
      { re: /^decode \+ JSON line, mix: ([\d,]+) events\/s wall/m, name: 'decode + JSON, mix', unit: 'events/s' },
    ],
  },
  audit: {
    file: 'audit.js',
    extract: [{ re: /^audit: .*= ([\d,]+) events\/s/m, name: 'session model + audit', unit: 'events/s', target: { op: '>=', value: 20_000 } }],
  },
  perfetto: {
    file: 'perfetto.js',
    extract: [
      { re: /^perfetto export: ([\d,]+) events\/s/m, name: 'perfetto export', unit: 'events/s' },
      { re: /^perfetto export: .*peak RSS (\d+) MB/m, name: 'perfetto export, peak RSS (1M events)', unit: 'MB', target: { op: '<=', value: 300 } },
    ],
  },
  tui: {
    file: 'tui.js',
    extract: [
      { re: /^ingest \(decoded events.*?: ([\d,]+) events\/s/m, name: 'ingest while drawing', unit: 'events/s', target: { op: '>=', value: 20_000 } },
      { re: /^ingest \(decoded events.*= ([\d.]+) frames\/s/m, name: 'frames/s while ingesting', unit: 'frames/s', target: { op: '<=', value: 30 } },
      { re: /^ingest from a recording.*?: ([\d,]+) events\/s/m, name: 'ingest from a recording', unit: 'events/s', target: { op: '>=', value: 20_000 } },
      { re: /^key press.*?median ([\d.]+) ms, p95 ([\d.]+) ms/m, name: 'key press → frame, p95', unit: 'ms', target: { op: '<', value: 100 } as unknown as Target, group: 2 },
      { re: /^open [\d,]+-event recording.*all events in ([\d.]+) s/m, name: 'open 1M-event recording', unit: 's', target: { op: '<=', value: 3 } },
      { re: /^open [\d,]+-event recording of distinct.*all events in ([\d.]+) s/m, name: 'open 1M-event recording of distinct calls', unit: 's', target: { op: '<=', value: 1.5 } },
      { re: /^scroll top.*RSS (\d+) MB/m, name: 'RSS after scrolling 1M events', unit: 'MB', target: { op: '<=', value: 500 } },
    ],
  },
};

function runScript(name: string, spec: (typeof SCRIPTS)[string]): BenchReport {
  const file = path.join(ROOT, 'dist', 'bench', spec.file);
  const r = spawnSync(process.execPath, ['--expose-gc', file, ...(spec.args ?? [])], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 24 });
  const out = (r.stdout ?? '').trim();
  const notes = out ? out.split('\n') : [];
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${String(r.status ?? r.signal)}`;
    return { bench: name, figures: [], notes, skipped: `${spec.file} failed (${why}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
  const figures: Figure[] = [];
  for (const x of spec.extract) {
    const m = x.re.exec(out);
    if (!m) {
      notes.push(`(no figure found for "${x.name}": the script's output changed)`);
      continue;
    }
    figures.push({ bench: name, name: x.name, value: num(m[x.group ?? 1]!), unit: x.unit, ...(x.target ? { target: normalise(x.target) } : {}) });
  }
  return { bench: name, figures, notes };
}

/** '<' from a script's "< 100 ms" is checked as '<=' (a figure equal to the bound is rare and harmless). */
function normalise(t: Target): Target {
  return { op: (t.op as string).startsWith('<') ? '<=' : '>=', value: t.value };
}

function parseArgs(argv: string[]): Options {
  const o: Options = { only: null, repeats: 5, quick: false, out: path.join(ROOT, 'bench', 'results.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only = [...(o.only ?? []), ...val().split(',')];
    else if (a === '--repeats') o.repeats = Math.max(1, Number.parseInt(val(), 10) || 1);
    else if (a === '--quick') o.quick = true;
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--only NAME[,NAME…]] [--repeats N] [--quick] [--out FILE]\nbenchmarks: ' + NAMES.join(', '));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

const NAMES = ['tracer', 'attach', 'decode', 'reader', 'decoder', 'render', 'audit', 'perfetto', 'tui', 'emulate', 'guest'] as const;

async function runOne(name: string, o: Options): Promise<BenchReport> {
  switch (name) {
    // Imported here, not at the top: a module that fails to load costs only its own benchmark.
    case 'tracer': return (await import('./tracer.js')).run({ repeats: o.repeats, ...(o.quick ? { scale: 0.1 } : {}) });
    case 'attach': return (await import('./attach.js')).run({ repeats: o.repeats });
    case 'decode': return (await import('./decode.js')).run(o.quick ? { events: 100_000 } : {});
    default: return runScript(name, SCRIPTS[name]!);
  }
}

function fmt(f: Figure): string {
  const v = f.value;
  if (f.unit === '×') return `${v.toFixed(3)}×`;
  if (f.unit === 'events/s') return `${Math.round(v).toLocaleString('en')} ev/s`;
  if (f.unit === 'ms') return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  if (f.unit === 's') return `${v.toFixed(2)} s`;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${f.unit}`;
}

function fmtTarget(f: Figure): string {
  if (!f.target) return '';
  const t: Figure = { ...f, value: f.target.value };
  return `${f.target.op === '<=' ? '≤' : '≥'} ${fmt(t)}`;
}

function table(reports: BenchReport[]): string {
  const rows: string[][] = [['bench', 'figure', 'value', 'target', 'result']];
  for (const r of reports) {
    if (r.skipped) rows.push([r.bench, `skipped: ${r.skipped}`, '', '', '']);
    if (r.loadAverage) rows.push([r.bench, `(load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' → ')})`, '', '', '']);
    for (const f of r.figures) {
      const p = passes(f);
      rows.push([f.bench, f.name, fmt(f), fmtTarget(f), p === null ? '' : p ? 'pass' : 'MISS']);
    }
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r, i) => r.map((c, k) => (k === 2 || k === 3 ? c.padStart(w[k]!) : c.padEnd(w[k]!))).join('  ').trimEnd() + (i === 0 ? `\n${w.map((n) => '-'.repeat(n)).join('  ')}` : '')).join('\n');
}

function machine(): Record<string, string | number> {
  return { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memMb: Math.round(os.totalmem() / 1048576), kernel: os.release(), node: process.version, arch: process.arch };
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  const names = o.only ?? [...NAMES];
  const unknown = names.filter((n) => !(NAMES as readonly string[]).includes(n));
  if (unknown.length) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')} (known: ${NAMES.join(', ')})`);
    return 2;
  }
  const reports: BenchReport[] = [];
  let failed = false;
  for (const name of names) {
    const load0 = os.loadavg()[0]!;
    console.log(`== ${name} (load average ${load0.toFixed(1)} on ${os.cpus().length} CPUs)`);
    if (load0 > os.cpus().length / 2) console.log('   warning: the machine is busy; figures will be slower and noisier than on an idle machine');
    const t0 = process.hrtime.bigint();
    let r: BenchReport;
    try {
      r = await runOne(name, o);
    } catch (e) {
      failed = true;
      r = { bench: name, figures: [], notes: [], skipped: `error: ${(e as Error).message}` };
    }
    r.loadAverage = [load0, os.loadavg()[0]!];
    for (const n of r.notes) console.log(`   ${n}`);
    if (r.skipped) console.log(`   skipped: ${r.skipped}`);
    console.log(`   (${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s)`);
    reports.push(r);
  }
  console.log(`\n${table(reports)}`);
  const m = machine();
  console.log(`\nmachine: ${m.cpus} × ${m.cpu}, ${m.memMb} MB, Linux ${m.kernel}, Node ${m.node}${o.quick ? ' (--quick: smaller workloads, figures not comparable)' : ''}`);
  const misses = reports.flatMap((r) => r.figures).filter((f) => passes(f) === false);
  if (misses.length) console.log(`targets missed: ${misses.length} (see docs/benchmarks.md for where the time goes)`);
  try {
    writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), quick: o.quick, repeats: o.repeats, machine: m, reports }, null, 2) + '\n');
    console.log(`results: ${path.relative(process.cwd(), o.out) || o.out}`);
  } catch (e) {
    console.error(`bench: cannot write ${o.out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    failed = true;
  }
  return failed ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
});
