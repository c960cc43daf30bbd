// native/ cross-builds for every supported host, and the recorder's rule
// table is the decoders' captureRules(arch, registry()), generated, for the ABI it is
// compiled for. Each arch skips (with the reason) when its cross compiler is
// missing.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureRules } from '../../src/decode/captureRules.js';
import { emitCRules } from '../../src/decode/emitCRules.js';
import { RuleKind } from '../../src/trace/events.js';
import { PREBUILT_ELF } from '../../src/trace/platform.js';
import { CROSS_ARCHES, ROOT, crossDir, crossUnavailable, make, readElf } from './build.js';
import { registry } from '../../decoders/index.js';

const PRODUCER = `vfiotrace-record ${(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`;

describe('emitCRules', () => {
  it('writes one row per capture rule, with the arch and its AUDIT_ARCH pinned', () => {
    const c = emitCRules('ppc64', { producer: 'p', registry: registry() });
    const rules = captureRules('ppc64', registry());
    expect(rules.length).toBeGreaterThan(20);
    const rows = c.split('\n').filter((l) => l.startsWith('\t{'));
    expect(rows).toHaveLength(rules.length);
    rows.forEach((row, k) => {
      const r = rules[k]!;
      expect(row).toBe(`\t{0x${r.request.toString(16)}u, VFT_RULE_${RuleKind[r.kind].toUpperCase()}, ${r.size}u, ${r.minsz}u, ${r.cap}u},`);
    });
    expect(c).toContain('_Static_assert(VFT_AUDIT_ARCH == 0x80000015u');
    expect(c).toContain(`const unsigned vfr_nrules = ${rules.length}u;`);
    expect(c).toContain('const int vfr_ioctl_type = 0x3b;');
    // every powerpc VFIO number carries _IOC_NONE (1) at bit 29
    for (const r of rules) expect(r.request & 0xffffff00).toBe(0x20003b00);
  });

  it('escapes the producer and rejects an arch the decoders do not describe', () => {
    expect(emitCRules('x86_64', { producer: 'a"b\\c\n', registry: registry() })).toContain('const char vfr_producer[] = "a\\"b\\\\c\\012";');
    expect(() => emitCRules('mips', { producer: 'p', registry: registry() })).toThrow(/unsupported architecture 'mips'/);
  });
});

describe.each(CROSS_ARCHES)('make -C native cross-%s', (arch) => {
  const skip = crossUnavailable(arch);
  it.skipIf(skip !== null)(`builds the engine and a static recorder${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const err = make(`cross-${arch}`);
    expect(err).toBeNull();
    const dir = crossDir(arch);
    for (const file of ['libvftrace.so', 'vfiotrace-record']) {
      const elf = readElf(path.join(dir, file));
      expect(elf.machine, file).toBe(PREBUILT_ELF[arch].machine);
      expect(elf.byteOrder, file).toBe(PREBUILT_ELF[arch].byteOrder);
    }
    expect(readElf(path.join(dir, 'libvftrace.so')).type).toBe(3); // ET_DYN
    expect(readElf(path.join(dir, 'vfiotrace-record')).interp).toBe(false); // static
    // The embedded table is today's decoders, not a stale or hand-made copy.
    expect(readFileSync(path.join(dir, 'gen', 'rules.c'), 'utf8')).toBe(emitCRules(arch, { producer: PRODUCER, registry: registry() }));
  });
});
