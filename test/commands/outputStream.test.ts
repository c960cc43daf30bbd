// Where the trace goes without -o: live commands write it to stderr, as strace
// does (the traced command owns stdout); `-o -` asks for stdout; printing a
// recording (show) writes to stdout. Runs in-process with both streams
// captured. Needs ptrace and a private mount namespace.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { demoClientPath, run as demo } from '../../src/commands/demo.js';
import { run as show } from '../../src/commands/show.js';
import { run as trace } from '../../src/commands/trace.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { liveSkipReason, tmp } from '../integration/helpers.js';

const skip = liveSkipReason() ?? (existsSync(demoClientPath()) ? null : 'demo client not built (make -C test/fixtures)');
if (skip) console.warn(`skipping output stream tests: ${skip}`);

/** Runs a command with process.stdout and process.stderr captured. */
async function captured(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const text = (c: string | Uint8Array): string => (typeof c === 'string' ? c : Buffer.from(c).toString());
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += text(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += text(c)), true));
  try {
    return { code: await run(argv), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

const calls = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('ioctl('));

describe.skipIf(skip !== null)('default output stream', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a live trace goes to stderr; -o - sends it to stdout; show prints the same text on stdout', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'run.vft');
    const client = sandboxArgv([demoClientPath()]);
    const live = await captured(trace, ['-w', rec, '--', ...client]);
    expect(live.code).toBe(0);
    expect(live.stdout).toBe('');
    expect(calls(live.stderr).length).toBeGreaterThan(10);
    expect(live.stderr).toMatch(/\+\+\+ exited with 0 \+\+\+\n$/);

    const dash = await captured(trace, ['-o', '-', '--', ...client]);
    expect(dash.code).toBe(0);
    expect(dash.stderr).toBe('');
    expect(calls(dash.stdout)).toHaveLength(calls(live.stderr).length);

    const replay = await captured(show, [rec]);
    expect(replay.code).toBe(0);
    expect(replay.stderr).toBe('');
    expect(replay.stdout).toBe(live.stderr);
  });

  it('demo: the closing note follows a text trace; JSON lines stay clean', async () => {
    const text = await captured(demo, ['--device', 'none']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/\+\+\+ exited with 0 \+\+\+\n\d+ VFIO ioctls traced .*\n$/);

    const json = await captured(demo, ['--device', 'none', '--json']);
    expect(json.code).toBe(0);
    for (const l of json.stderr.trimEnd().split('\n')) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(json.stdout).toMatch(/^\d+ VFIO ioctls traced /);
  });
});
