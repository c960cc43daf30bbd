// The descriptions against real kernel headers: every ioctl number, struct
// size and field offset becomes a C static assert, compiled with gcc against
// the machine's headers and against Debian 13's (including powerpc's asm/
// for the ppc encoding). Errno numbers are checked the same way.

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registry } from '../../src/decode/registry.js';
import { allErrnos } from '../../src/decode/errno.js';
import { indexHeader, layoutC } from './cgen.js';
import { HOST, hasGcc, headerText, trixieHeaders, type HeaderSet } from './kheaders.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-layout-'));

function compile(name: string, source: string, incs: string[]): string {
  const file = path.join(tmp, name);
  writeFileSync(file, source);
  try {
    execFileSync('gcc', ['-fsyntax-only', '-std=gnu11', ...incs.flatMap((d) => ['-I', d]), file], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
  }
}

function errnoC(flavor: 'generic' | 'powerpc'): string {
  const lines = ['#include <asm/errno.h>', '#define CHECK(e) _Static_assert(e, #e)'];
  for (const [name, v] of allErrnos(flavor)) lines.push(`#ifdef ${name}\nCHECK(${name} == ${v});\n#endif`);
  return lines.join('\n') + '\n';
}

const gcc = hasGcc();
const reg = registry();

describe.skipIf(!gcc)('layouts against the host headers', () => {
  it('every ioctl number, size and offset the host header has matches', () => {
    const { text, includes } = headerText(HOST);
    const idx = indexHeader(text);
    const c = layoutC(reg, idx, includes, 'x86_64');
    // The 6.1 header already has most of VFIO: the check must not be vacuous.
    expect(c.counts.ioctls).toBeGreaterThanOrEqual(30);
    expect(c.counts.sizes).toBeGreaterThan(30);
    expect(c.counts.offsets).toBeGreaterThan(150);
    expect(compile('host.c', c.source, [])).toBe('');
  });

  it('host errno numbers match the generic table', () => {
    expect(compile('errno-host.c', errnoC('generic'), [])).toBe('');
  });

  it('a wrong description is caught (the check can fail)', () => {
    const { text, includes } = headerText(HOST);
    const c = layoutC(reg, indexHeader(text), includes, 'x86_64');
    const broken = c.source.replace('CHECK(sizeof(struct vfio_eeh_pe_op) == 40);', 'CHECK(sizeof(struct vfio_eeh_pe_op) == 32);');
    expect(broken).not.toBe(c.source);
    expect(compile('broken.c', broken, [])).toMatch(/static assertion failed|_Static_assert/);
  });
});

const trixie = gcc ? trixieHeaders() : { set: null, why: 'gcc missing' };
if (!trixie.set) console.warn(`skipping Debian 13 header checks: ${trixie.why}`);

describe.skipIf(!trixie.set)('layouts against Debian 13 linux-libc-dev (vfio.h + iommufd.h)', () => {
  const set = trixie.set as HeaderSet;
  const archDir = (triplet: string) => path.join(set.include, triplet);

  it('numbers, sizes and offsets (x86_64 encoding)', () => {
    const { text, includes } = headerText(set);
    expect(includes).toContain('linux/iommufd.h');
    const c = layoutC(reg, indexHeader(text), includes, 'x86_64');
    expect(c.counts.ioctls).toBeGreaterThan(45);
    expect(compile('trixie-x86.c', c.source, [set.include, archDir('x86_64-linux-gnu')])).toBe('');
  });

  for (const [arch, triplet] of [
    ['ppc64', 'powerpc64-linux-gnu'],
    ['ppc64le', 'powerpc64le-linux-gnu'],
    ['aarch64', 'aarch64-linux-gnu'],
  ] as const) {
    it(`ioctl numbers with ${arch}'s encoding (its asm/ioctl.h)`, () => {
      const { text, includes } = headerText(set);
      const c = layoutC(reg, indexHeader(text), includes, arch, true);
      expect(c.counts.ioctls).toBeGreaterThan(45);
      expect(compile(`trixie-${arch}.c`, c.source, [set.include, archDir(triplet)])).toBe('');
    });
  }

  it('powerpc errno numbers (EDEADLOCK is its own value)', () => {
    expect(compile('errno-ppc.c', errnoC('powerpc'), [set.include, archDir('powerpc64-linux-gnu')])).toBe('');
    expect(compile('errno-arm.c', errnoC('generic'), [set.include, archDir('aarch64-linux-gnu')])).toBe('');
  });
});
