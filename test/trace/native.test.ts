import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceError, nativeLibraryPath, packageRoot, startTrace } from '../../src/trace/native.js';

describe('startTrace option checks (no tracing needed)', () => {
  const bad = (o: Parameters<typeof startTrace>[0], re: RegExp) => {
    let err: unknown;
    try {
      startTrace(o);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    expect((err as TraceError).code).toBe('EINVAL');
    expect((err as Error).message).toMatch(re);
  };

  it('wants exactly one of a command, pids and every process', () => {
    const oneOf = /give one of: a command to run, pids to attach to, or every process/;
    bad({ rules: [] }, oneOf);
    bad({ rules: [], command: ['true'], pids: [1] }, oneOf);
    bad({ rules: [], command: [] }, oneOf);
    bad({ rules: [], pids: [1], allProcesses: true, backend: 'bpf' }, oneOf);
    bad({ rules: [], allProcesses: true }, /every process needs the eBPF backend/);
  });

  it('rejects bad pids, type bytes and caps', () => {
    bad({ rules: [], pids: [0] }, /invalid pid 0/);
    bad({ rules: [], pids: [1.5] }, /invalid pid 1.5/);
    bad({ rules: [], command: ['true'], ioctlType: 256 }, /invalid ioctl type 256/);
    bad({ rules: [], command: ['true'], ioctlType: -2 }, /invalid ioctl type -2/);
    bad({ rules: [], command: ['true'], payloadCap: -1 }, /invalid payload cap -1/);
  });

  it('refuses to attach to a child of this very process', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      bad({ rules: [], pids: [child.pid as number] }, /cannot attach to \d+: it is a child of this process/);
    } finally {
      child.kill();
    }
  });

  it('finds the package root and the library path from the sources', () => {
    const root = packageRoot();
    expect(existsSync(path.join(root, 'package.json'))).toBe(true);
    expect(nativeLibraryPath()).toBe(path.join(root, 'native', 'build', 'libvftrace.so'));
  });
});
