// Cost of an emulated ioctl: the burst fixture's VFIO_GET_API_VERSION loop
// (one thread) run bare, traced with the kernel answering (plain sandbox,
// ENOTTY), and under emulation answered each way: through the engine's
// seccomp listener (notify) and at ptrace stops (a PENDING record and a
// verdict on a pipe). The per-call figure is the slope between a short and a
// long run, so session start-up (the sandbox, the answering worker) cancels
// out; medians of alternating runs.
//
//   node dist/bench/emulate.js [CALLS]     (also: npm run bench -- --only emulate)

import { spawn } from 'node:child_process';
import path from 'node:path';
import { resolveProfile } from '../src/emulate/profiles/index.js';
import { startEmulatedTrace, type EmulationPath } from '../src/emulate/session.js';
import { startTrace, type TraceSession } from '../src/trace/native.js';
import { liveCaptureRules } from '../src/session/pipeline.js';
import { sandboxArgv } from '../src/trace/sandbox.js';
import { median, repoRoot } from './figures.js';

const ROOT = repoRoot(import.meta.url);
const BURST = path.join(ROOT, 'test', 'fixtures', 'build', 'burst');
const RUNS = 5;

async function timed(start: () => TraceSession): Promise<number> {
  const t0 = process.hrtime.bigint();
  const s = start();
  s.stream.resume();
  await s.done;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function bare(cmd: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve());
  });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

type Mode = 'bare' | 'traced' | EmulationPath;
const MODES: readonly Mode[] = ['bare', 'traced', 'notify', 'ptrace'];

async function run(mode: Mode, calls: number): Promise<number> {
  // The fixture prints a "tid N COUNT" line per thread for the tests; here it
  // would land among the figures, so its stdout goes to /dev/null (the same
  // wrapper for every mode, so they compare like with like).
  const cmd = ['/bin/sh', '-c', 'exec "$0" "$@" >/dev/null', BURST, '1', String(calls)];
  const rules = liveCaptureRules();
  if (mode === 'bare') return bare(sandboxArgv(cmd));
  if (mode === 'traced') return timed(() => startTrace({ command: sandboxArgv(cmd), rules }));
  return timed(() => startEmulatedTrace({ command: cmd, rules }, { profile: resolveProfile('x86-pci'), via: mode }));
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 50000);
  const short = Math.max(1, Math.floor(calls / 20));
  const slopes = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const m of MODES) {
      // The ptrace path is ~10× slower: a tenth of the calls keeps the run short.
      const n = m === 'ptrace' ? Math.ceil(calls / 10) : calls;
      const s = m === 'ptrace' ? Math.ceil(short / 10) : short;
      const long = await run(m, n);
      const brief = await run(m, s);
      slopes.get(m)!.push((long - brief) / (n - s));
    }
  }
  const us = (m: Mode): number => median(slopes.get(m)!) * 1e6;
  for (const m of MODES) console.log(`${m}: ${us(m).toFixed(2)} us/call`);
  console.log(`emulated round trip: ${us('notify').toFixed(1)} us/call through the seccomp listener (+${(us('notify') - us('bare')).toFixed(1)} us over bare; ${(us('ptrace') / us('notify')).toFixed(1)}x faster than at ptrace stops, ${us('ptrace').toFixed(1)} us)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
