// The committed eBPF light skeleton (native/bpf/gen/capture.lskel.h) is what
// the capture program's sources give: built with clang and bpftool where
// both are installed (CI installs them), and compared byte for byte.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/trace.js';

const has = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const skip = !has('bpftool', 'version') ? 'bpftool is not installed' : !has('clang-14', '--version') && !has('clang', '--version') ? 'clang is not installed' : null;
if (skip) console.warn(`skipping the eBPF skeleton check: ${skip}`);

describe.skipIf(skip !== null)('eBPF skeleton', () => {
  it('the committed light skeleton is current', () => {
    const r = spawnSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'bpf-check'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
