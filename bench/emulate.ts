// Cost of an emulated ioctl: the burst fixture's VFIO_GET_API_VERSION loop
// (one thread) traced with the kernel answering (plain sandbox, ENOTTY) and
// with the emulated kernel answering every call (PENDING record → verdict
// round trip → skip + return value). Wall time of the traced run, medians of
// a few runs.
//
//   node dist/bench/emulate.js [CALLS]     (also: npm run bench -- --only emulate)

import path from 'node:path';
import { resolveProfile } from '../src/emulate/profiles/index.js';
import { startEmulatedTrace } from '../src/emulate/session.js';
import { startTrace, type TraceSession } from '../src/trace/native.js';
import { liveCaptureRules } from '../src/session/pipeline.js';
import { sandboxArgv } from '../src/trace/sandbox.js';
import { median, repoRoot } from './figures.js';

const ROOT = repoRoot(import.meta.url);
const BURST = path.join(ROOT, 'test', 'fixtures', 'build', 'burst');

async function timed(start: () => TraceSession): Promise<number> {
  const t0 = process.hrtime.bigint();
  const s = start();
  s.stream.resume();
  await s.done;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20000);
  // The fixture prints a "tid N COUNT" line per thread for the tests; here it
  // would land among the figures, so its stdout goes to /dev/null (the same
  // wrapper for both runs, so they still compare like with like).
  const cmd = ['/bin/sh', '-c', 'exec "$0" "$@" >/dev/null', BURST, '1', String(calls)];
  const rules = liveCaptureRules();
  const profile = resolveProfile('x86-pci');
  const traced: number[] = [];
  const emulated: number[] = [];
  for (let i = 0; i < 3; i++) {
    traced.push(await timed(() => startTrace({ command: sandboxArgv(cmd), rules })));
    emulated.push(await timed(() => startEmulatedTrace({ command: cmd, rules }, { profile })));
  }
  const t = median(traced);
  const e = median(emulated);
  console.log(`traced, kernel answers: ${Math.round(calls / t).toLocaleString('en')} calls/s (${t.toFixed(2)} s for ${calls})`);
  console.log(`emulated: ${Math.round(calls / e).toLocaleString('en')} calls/s (${e.toFixed(2)} s for ${calls})`);
  console.log(`emulated round trip: ${((e / calls) * 1e6).toFixed(1)} us/call (+${(((e - t) / calls) * 1e6).toFixed(1)} us over tracing alone)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
