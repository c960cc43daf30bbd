// `vfiotrace --version`: the package's version, and the native engine's when it is built.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';

afterEach(() => vi.restoreAllMocks());

describe('vfiotrace --version', () => {
  for (const flag of ['--version', '-V']) {
    it(`${flag} prints package.json's version and the engine's, exit 0`, async () => {
      let out = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
      const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      expect(await main([flag])).toBe(0);
      expect(out).toMatch(new RegExp(`^vfiotrace ${version.replace(/\./g, '\\.')} \\(native engine: (vftrace \\d+|not built)\\)\\n$`));
    });
  }
});
