// While a session runs, the host's main thread sits on one CPU of its set and
// the tracer thread and the traced command keep the whole set; when the last
// session ends the main thread gets its set back.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTrace } from '../../src/trace/native.js';
import { collect, fixture, tracerUnavailable } from '../helpers/trace.js';


/** Cpus_allowed_list of a task, expanded: "0-1,3" → [0, 1, 3]. */
function allowed(path: string): number[] {
  const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:')) ?? '';
  return line
    .slice(line.indexOf(':') + 1)
    .trim()
    .split(',')
    .flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) return [];
      return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
    });
}

const mainThread = `/proc/self/task/${process.pid}/status`;
// Read before the availability probe below starts a session of its own.
const before = allowed(mainThread);
const noTracer = tracerUnavailable();
if (noTracer) console.warn(`skipping affinity tests: ${noTracer}`);

async function settled(): Promise<void> {
  // the probe's session ends on its own within moments
  for (let i = 0; i < 200 && allowed(mainThread).length !== before.length; i++) await new Promise((r) => setTimeout(r, 10));
}

describe.skipIf(noTracer !== null || before.length < 2)('main thread placement', () => {
  it('moves the main thread to the last CPU while tracing, leaves the child the full set, restores after', async () => {
    await settled();
    expect(allowed(mainThread)).toEqual(before);
    // A command that runs until it is ended: its /proc entry cannot vanish under the check.
    const s = startTrace({ command: [fixture('lingering'), 'stubborn'], rules: [] });
    expect(allowed(mainThread)).toEqual([before[before.length - 1]]);
    expect(allowed(`/proc/${s.pid}/status`)).toEqual(before);
    s.end('SIGKILL');
    await collect(s);
    expect(allowed(mainThread)).toEqual(before);
  });

  it('VFIOTRACE_NO_AFFINITY=1 leaves it alone', async () => {
    await settled();
    process.env.VFIOTRACE_NO_AFFINITY = '1';
    try {
      const s = startTrace({ command: [fixture('loop'), '1'], rules: [] });
      expect(allowed(mainThread)).toEqual(before);
      await collect(s);
    } finally {
      delete process.env.VFIOTRACE_NO_AFFINITY;
    }
  });
});
