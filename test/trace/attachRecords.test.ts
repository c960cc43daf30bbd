// What the engine records when it attaches: the process (START, parent 0)
// and each thread already running (THREAD, creator 0), so every thread later
// reported DETACHED was introduced first.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndReason, ProcessEventKind } from '../../src/trace/events.js';
import { startTrace } from '../../src/trace/native.js';
import { readStream } from '../../src/trace/recordingStream.js';
import { fixture, processes, tracerUnavailable, waitForText } from '../helpers/trace.js';

const skip = tracerUnavailable();
if (skip) console.warn(`skipping attach record tests: ${skip}`);

function threadsOf(pid: number): number {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

describe.skipIf(skip !== null)('attach records', () => {
  it('START for the process, THREAD (creator 0) for each other thread, DETACHED for all three', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-attach-'));
    const out = path.join(dir, 'loop.out');
    // Through a shell, so the target is not this process's child (libuv would reap its stops).
    const pid = Number(
      execFileSync('sh', ['-c', `${fixture('loop')} 60000 3 > ${out} 2>&1 & echo $!`]).toString().trim(),
    );
    try {
      await waitForText(out, 'ready');
      const deadline = Date.now() + 30_000;
      while (threadsOf(pid) !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(threadsOf(pid)).toBe(3);
      const s = startTrace({ pids: [pid], rules: [] });
      const rec = await readStream(s.stream);
      const records = [];
      for await (const r of rec.records()) {
        records.push(r);
        if (r.type === 'ioctl' && records.filter((x) => x.type === 'ioctl').length === 10) s.detach();
      }
      expect((await s.done).reason).toBe(EndReason.Detached);
      const ps = processes(records);
      const starts = ps.filter((p) => p.kind === ProcessEventKind.Start);
      expect(starts.map((p) => [p.pid, p.tid, p.other])).toEqual([[pid, pid, 0]]);
      const threads = ps.filter((p) => p.kind === ProcessEventKind.Thread);
      expect(threads.map((p) => [p.pid, p.other])).toEqual([[pid, 0], [pid, 0]]);
      expect(new Set(threads.map((p) => p.tid)).size).toBe(2);
      // Introduced before any call, and before being let go.
      const firstCall = records.findIndex((r) => r.type === 'ioctl');
      expect(records.indexOf(threads[1]!)).toBeLessThan(firstCall);
      const detached = ps.filter((p) => p.kind === ProcessEventKind.Detached).map((p) => p.tid).sort();
      expect(detached).toEqual([pid, ...threads.map((p) => p.tid)].sort());
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
