// The success-path rules end to end: C fixtures (test/fixtures/audit/emulated)
// run under `vfiotrace emulate`, whose emulated kernel answers, recorded with
// -w and audited with `vfiotrace audit --json`. The emulator and the audit
// encode the same kernel semantics; these tests hold them to agreeing.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/audit/report.js';
import { run as audit } from '../../src/commands/audit.js';
import { run as emulate } from '../../src/commands/emulate.js';
import { buildFixtures, fixture, ROOT, sandboxUnavailable, tracerUnavailable } from '../helpers/trace.js';

const SRC = path.join(ROOT, 'test', 'fixtures', 'audit', 'emulated');
const BUILD = path.join(ROOT, 'test', 'fixtures', 'build', 'audit', 'emulated');
const FREEZE = 'after 1 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE';

const why = tracerUnavailable() ?? sandboxUnavailable();
if (why) console.warn(`skipping emulated audit fixtures: ${why}`);

interface Case {
  profile: 'x86-pci' | 'power-eeh';
  eeh?: string;
  /** The one sequence rule expected (none for the clean clients). */
  rule: string | null;
  /** What the emulated kernel answered to the offending call. */
  answer?: RegExp;
}

const CASES: Record<string, Case> = {
  clean_type1: { profile: 'x86-pci', rule: null },
  clean_eeh: { profile: 'power-eeh', eeh: FREEZE, rule: null },
  dma_map_overlap: { profile: 'x86-pci', rule: 'dma-map-overlap', answer: /= -1 EEXIST/ },
  dma_unaligned: { profile: 'x86-pci', rule: 'dma-unaligned', answer: /= -1 EINVAL/ },
  caps_reply_not_retried: { profile: 'x86-pci', rule: 'caps-reply-not-retried', answer: /= 0/ },
  set_irqs_unsupported: { profile: 'x86-pci', rule: 'set-irqs-unsupported', answer: /= -1 EINVAL/ },
  eeh_unfreeze_when_normal: { profile: 'power-eeh', rule: 'eeh-unfreeze-when-normal' },
  eeh_access_while_stopped: { profile: 'power-eeh', eeh: 'after 1 ENABLE: state STOPPED', rule: 'eeh-access-while-stopped' },
};

let out: string;

describe.skipIf(why !== null)('audit of fixtures under the emulated kernel', () => {
  beforeAll(() => {
    buildFixtures(SRC, BUILD);
    out = mkdtempSync(path.join(tmpdir(), 'vft-audit-emu-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('every fixture has a case', () => {
    expect(readdirSync(SRC).filter((x) => x.endsWith('.c')).map((x) => x.slice(0, -2)).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [profile, mode] of [['x86-pci', 'type1'], ['power-eeh', 'spapr']] as const) {
    it(`the bundled demo client (${mode}) under ${profile} → no findings`, async () => {
      const rec = path.join(out, `demo-${mode}.vft`);
      const report = path.join(out, `demo-${mode}.json`);
      expect(await emulate(['--device', profile, '-w', rec, '-o', path.join(out, `demo-${mode}.txt`), '--', fixture('demo_client'), mode])).toBe(0);
      expect(await audit(['--json', '-o', report, rec])).toBe(0);
      const j = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      expect(j.findings).toEqual([]);
      expect(j.events).toBeGreaterThan(30);
    });
  }

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name} → ${c.rule ?? 'no findings'}`, async () => {
      const rec = path.join(out, `${name}.vft`);
      const report = path.join(out, `${name}.json`);
      const args = ['--device', c.profile, ...(c.eeh ? ['--eeh', c.eeh] : []), '-w', rec, '-o', path.join(out, `${name}.txt`), '--', path.join(BUILD, name)];
      expect(await emulate(args)).toBe(0);
      const code = await audit(['--json', '-o', report, rec]);
      const j = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      expect(j.error).toBeNull();
      const seq = j.findings.filter((f) => f.source === 'sequence');
      if (c.rule === null) {
        expect(j.findings, JSON.stringify(j.findings, null, 1)).toEqual([]);
        expect(code).toBe(0);
        return;
      }
      expect(seq.map((f) => f.rule), JSON.stringify(seq, null, 1)).toEqual([c.rule]);
      expect(code).toBe(1);
      if (c.answer) {
        const ex = j.rules.find((r) => r.rule === c.rule)!.examples[0]!;
        expect(ex.lines[String(ex.seq)]).toMatch(c.answer);
      }
    });
  }
});
