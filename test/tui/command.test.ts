// `vfiotrace tui` argument checks that fail before any terminal is needed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/commands/tui.js';
import { writeEehRecording } from './recording.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-cmd-'));
const rec = path.join(dir, 'eeh.vft');
writeEehRecording(rec);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tui(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    return { code: await run(argv), stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('tui arguments', () => {
  it('rejects --emulate with a recording in one line (emulation runs a command)', async () => {
    const r = await tui(['--emulate', 'x86-pci', rec]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--emulate .*command.*not a recording/);
  });

  it('rejects --eeh with a recording, and --emulate with -p, the same way', async () => {
    const eeh = await tui(['--eeh', 'after 1 ENABLE: state STOPPED', rec]);
    expect(eeh.code).toBe(2);
    expect(eeh.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(eeh.stderr).toMatch(/--eeh/);
    const attach = await tui(['--emulate', 'x86-pci', '-p', String(process.pid)]);
    expect(attach.code).toBe(2);
    expect(attach.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(attach.stderr).toMatch(/--emulate .*command/);
  });
});
