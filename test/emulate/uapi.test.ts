// The emulator's uapi values and errno table against the system headers,
// checked by compiling static asserts with gcc.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E } from '../../src/emulate/errno.js';
import * as U from '../../src/emulate/uapi.js';

const HEADER = '/usr/include/linux/vfio.h';
const haveGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function compiles(lines: string[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'vft-emu-const-'));
  try {
    const src = join(dir, 'c.c');
    writeFileSync(src, lines.join('\n') + '\n');
    execFileSync('gcc', ['-fsyntax-only', '-std=c11', src], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveGcc || !existsSync(HEADER))('emulator constants vs the system headers (gcc not found or no <linux/vfio.h>: skipped)', () => {
  it('every exported VFIO_* number equals the header macro (those this header has)', () => {
    const lines = ['#include <linux/vfio.h>'];
    let n = 0;
    for (const [name, value] of Object.entries(U)) {
      if (typeof value !== 'number' || !name.startsWith('VFIO_')) continue;
      // Enum-like names the header spells as enumerators are checked unguarded.
      const isEnum = /_REGION_INDEX$|_IRQ_INDEX$|^VFIO_PCI_NUM_/.test(name);
      lines.push(isEnum ? `_Static_assert(${name} == ${value}, "${name}");` : `#ifdef ${name}\n_Static_assert(${name} == ${value}, "${name}");\n#endif`);
      n++;
    }
    expect(n).toBeGreaterThan(50);
    compiles(lines);
  });

  it('the errno table matches <errno.h>', () => {
    compiles(['#include <errno.h>', ...Object.entries(E).map(([k, v]) => `_Static_assert(${k} == ${v}, "${k}");`)]);
  });
});
