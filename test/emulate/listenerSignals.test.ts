// Signals and the seccomp listener: a thread waiting for its emulated answer
// is not interrupted once the answer is being worked out, and one the signal
// reaches before that has its call withdrawn and issued again; either way
// each call is answered exactly once and every signal reaches the client.
// Needs root and ptrace.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import type { DecodedIoctl } from '../../src/decode/types.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { startEmulatedTrace } from '../../src/emulate/session.js';
import { EndReason, IOCTL_FLAG } from '../../src/trace/events.js';
import { liveCaptureRules, openPipeline } from '../../src/session/pipeline.js';
import { fixture, tracerUnavailable } from '../helpers/trace.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(fixture('signals')) ? null : 'fixtures not built');
if (skip) console.warn(`skipping listener signal tests: ${skip}`);

describe.skipIf(skip !== null)('signals while calls wait for the listener', () => {
  it('a client hammered with SIGUSR1 sees every one it counts, and every call is answered once', async () => {
    const wanted = 150;
    const s = startEmulatedTrace({ command: [fixture('signals'), 'wait', String(wanted)], rules: liveCaptureRules() }, { profile: resolveProfile('x86-pci') });
    expect(s.via).toBe('notify');
    const p = await openPipeline(s.stream, {});
    const ioctls: DecodedIoctl[] = [];
    let client = 0;
    let timer: NodeJS.Timeout | undefined;
    for await (const e of p.events()) {
      if (e.kind !== 'ioctl') continue;
      ioctls.push(e);
      if (client === 0) {
        // From the first call on, signals arrive all the time, some while a call waits for its answer.
        client = e.record.pid;
        timer = setInterval(() => {
          for (let i = 0; i < 8; i++) {
            try {
              process.kill(client, 'SIGUSR1');
            } catch {
              /* exited */
            }
          }
        }, 1);
      }
    }
    clearInterval(timer);
    const r = await s.done;
    // The client's exit status is the number of signals its handler saw: it stops once it has
    // `wanted` (one more may land before it returns).
    expect(r.reason).toBe(EndReason.Exited);
    expect(r.status).toBeGreaterThanOrEqual(wanted);
    expect(ioctls.length).toBeGreaterThan(1);
    for (const e of ioctls) {
      expect(e.record.flags & IOCTL_FLAG.NO_EXIT, 'answered').toBe(0);
      expect(e.record.flags & IOCTL_FLAG.EMULATED, 'by the emulated kernel').toBe(IOCTL_FLAG.EMULATED);
      expect(e.ret.value).toBe(0);
    }
  }, 60_000);
});
