// The register fallback of older kernels (orig_rax/rax on x86_64 instead of
// PTRACE_SET_SYSCALL_INFO), forced with VFT_EMU_REGS=1: the demo client must
// run exactly as with the new interface. Its own file: the engine reads the
// variable once per process.

import { describe, expect, it } from 'vitest';
import type { DecodedIoctl } from '../../src/decode/types.js';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { parseEehScript } from '../../src/emulate/eehScript.js';
import { startEmulatedTrace } from '../../src/emulate/session.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { liveCaptureRules, openPipeline } from '../../src/session/pipeline.js';
import { fixture, tracerUnavailable } from '../helpers/trace.js';

const skip = process.arch !== 'x64' ? 'the register fallback exists on x86_64 only' : (emulationUnavailable() ?? tracerUnavailable());
if (skip) console.warn(`skipping register-fallback test: ${skip}`);

describe.skipIf(skip !== null)('emulation through registers (kernels before 6.16)', () => {
  it('skips, answers and rewrites calls like PTRACE_SET_SYSCALL_INFO does', async () => {
    process.env.VFT_EMU_REGS = '1';
    const s = startEmulatedTrace(
      { command: [fixture('demo_client'), 'spapr'], rules: liveCaptureRules() },
      { profile: resolveProfile('power-eeh'), eeh: parseEehScript('after 1 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE') },
    );
    const p = await openPipeline(s.stream, {});
    const calls: DecodedIoctl[] = [];
    for await (const e of p.events()) if (e.kind === 'ioctl') calls.push(e);
    const r = await s.done;
    expect(r.status).toBe(0);
    expect(calls.length).toBeGreaterThan(20);
    for (const c of calls) {
      expect(c.ret.value, `${c.ioctl} ${c.ret.errno}`).toBeGreaterThanOrEqual(0);
      expect(c.record.flags & IOCTL_FLAG.EMULATED).toBe(IOCTL_FLAG.EMULATED);
    }
    expect(calls.filter((c) => c.ioctl === 'VFIO_EEH_PE_OP' && c.ret.value > 0).map((c) => c.ret.value)).toEqual([2]);
    expect(calls.find((c) => c.ioctl === 'VFIO_GROUP_GET_DEVICE_FD')!.ret.value).toBeGreaterThan(2);
  });
});
