// `vfiotrace --version`: the package's version, and the engine in use: its
// version, build id and file (or why there is none).

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { engineBuildId, nativeAvailable } from '../../src/trace/native.js';

afterEach(() => vi.restoreAllMocks());

describe('vfiotrace --version', () => {
  for (const flag of ['--version', '-V']) {
    it(`${flag} prints package.json's version and the engine's version, build id and file, exit 0`, async () => {
      let out = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
      const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      expect(await main([flag])).toBe(0);
      expect(nativeAvailable(), 'the engine is built (global-setup)').toBe(true);
      expect(out).toBe(`vfiotrace ${version} (native engine: vftrace 1, build ${engineBuildId()}, native/build/libvftrace.so)\n`);
      expect(engineBuildId()).toMatch(/^[0-9a-f]{16}$/);
    });
  }
});
