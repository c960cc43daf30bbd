// Tracing must not wake the host's event loop at every ptrace stop: each stop
// sends SIGCHLD to the tracer's process unless the SIGCHLD action carries
// SA_NOCLDSTOP, which the engine adds at session start. Counted here with a
// Node SIGCHLD listener (libuv's handler), in this test file's own process.
import { describe, expect, it } from 'vitest';
import { EndReason } from '../../src/trace/events.js';
import { startTrace } from '../../src/trace/native.js';
import { collect, fixture, ioctls, tracerUnavailable } from '../helpers/trace.js';

const noTracer = tracerUnavailable();
if (noTracer) console.warn(`skipping stop-signal tests: ${noTracer}`);

describe.skipIf(noTracer !== null)('ptrace stops and the host process', () => {
  it('does not deliver a SIGCHLD per traced call to the host', async () => {
    let sigchld = 0;
    const count = (): void => {
      sigchld++;
    };
    process.on('SIGCHLD', count);
    try {
      const calls = 3000;
      // two stops per call (seccomp entry, syscall exit)
      const { records, result } = await collect(startTrace({ command: [fixture('burst'), '1', String(calls)], rules: [] }));
      expect(result).toMatchObject({ reason: EndReason.Exited, status: 0 });
      expect(ioctls(records).length).toBe(calls);
      // let any signal already queued reach the listener
      await new Promise((r) => setTimeout(r, 50));
      // exits still signal (the traced thread and process); stops do not
      expect(sigchld).toBeLessThan(20);
    } finally {
      process.off('SIGCHLD', count);
    }
  });
});
