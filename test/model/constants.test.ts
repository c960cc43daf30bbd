// The uapi values src/model/vfio.ts uses, checked against the system's
// <linux/vfio.h> by compiling static asserts with gcc.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as V from '../../src/model/vfio.js';

const HEADER = '/usr/include/linux/vfio.h';
const haveGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!haveGcc || !existsSync(HEADER))('model constants vs <linux/vfio.h>', () => {
  it('every exported VFIO_* number equals the header macro', () => {
    const lines: string[] = ['#include <linux/vfio.h>'];
    let n = 0;
    for (const [name, value] of Object.entries(V)) {
      if (typeof value !== 'number' || !name.startsWith('VFIO_')) continue;
      lines.push(`_Static_assert(${name} == ${value}, "${name}");`);
      n++;
    }
    V.EEH_OP_NAMES.forEach((name, i) => lines.push(`_Static_assert(${name} == ${i}, "${name}");`));
    for (const [v, name] of Object.entries(V.IOMMU_TYPE_NAMES)) lines.push(`_Static_assert(${name} == ${v}, "${name}");`);
    expect(n).toBeGreaterThan(25);
    const dir = mkdtempSync(join(tmpdir(), 'vft-const-'));
    try {
      const src = join(dir, 'c.c');
      writeFileSync(src, lines.join('\n') + '\n');
      execFileSync('gcc', ['-fsyntax-only', '-std=c11', src], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
