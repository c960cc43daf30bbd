// fd paths are read at every call, never remembered: the same fd number can
// name another file after dup2, or after close and a new open.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndReason } from '../../src/trace/events.js';
import { fixture, ioctls, traceRun, tracerUnavailable } from '../helpers/trace.js';

const noTracer = tracerUnavailable();
if (noTracer) console.warn(`skipping fd path tests: ${noTracer}`);

describe.skipIf(noTracer !== null)('fd paths', () => {
  it('names the file each call went to when one fd number is reused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-fdpath-'));
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    writeFileSync(a, '');
    writeFileSync(b, '');
    const { records, result } = await traceRun([fixture('fdreuse'), a, b]);
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 0 });
    const calls = ioctls(records);
    expect(calls.map((c) => c.fdPath)).toEqual([a, b, a]);
    expect(new Set(calls.map((c) => c.fd)).size).toBe(1);
  });
});
