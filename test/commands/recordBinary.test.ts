// `vfiotrace record-binary [--arch ARCH]` prints where a static recorder is
// (the packaged case, every arch: test/package/install.test.ts).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { RECORDER, recorderUnavailable } from '../power/build.js';
import { prebuiltArch } from '../../src/trace/platform.js';

afterEach(() => vi.restoreAllMocks());

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(['record-binary', ...argv]);
  return { code, out, err };
}

describe('vfiotrace record-binary', () => {
  it("prints this clone's own recorder for this machine's arch", async () => {
    expect(recorderUnavailable()).toBeNull();
    expect(await run([])).toEqual({ code: 0, out: `${RECORDER}\n`, err: '' });
    const host = prebuiltArch();
    if (host !== null) expect(await run(['--arch', host])).toEqual({ code: 0, out: `${RECORDER}\n`, err: '' });
  });

  it('refuses an arch it has no recorder for, in one line', async () => {
    const r = await run(['--arch', 'mips']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^vfiotrace: option '--arch <arch>' argument 'mips' is invalid\. Allowed choices are x86_64, aarch64, ppc64le, ppc64\.\n$/);
  });
});
