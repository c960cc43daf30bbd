// The audit reads a recording the same whatever host produced it: the golden
// sPAPR + EEH session recorded as x86_64, ppc64le and big-endian ppc64 gives
// the same findings and the same session model.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import { openRecordingPipeline } from '../../src/session/pipeline.js';
import { ROOT } from '../helpers/trace.js';

const ARCHES = ['x86_64', 'ppc64le', 'ppc64'];
const file = (arch: string) => path.join(ROOT, 'test', 'golden', `spapr-eeh.${arch}.vft`);
const missing = ARCHES.filter((a) => !existsSync(file(a)));

async function auditFile(f: string): Promise<Auditor> {
  const a = new Auditor();
  const p = await openRecordingPipeline(f, {});
  for await (const ev of p.events()) a.feed(ev);
  a.finish();
  return a;
}

describe.skipIf(missing.length > 0)('golden recordings across architectures', () => {
  it('same findings and model from x86_64, ppc64le and ppc64 (big-endian)', async () => {
    const results = await Promise.all(ARCHES.map((a) => auditFile(file(a))));
    const view = (a: Auditor) => ({
      findings: a.findings.map((f) => ({ rule: f.rule, seq: f.seq, events: f.events, message: f.message })),
      containers: a.snapshot().processes.map((p) => p.containers.map((c) => ({ iommu: c.iommu?.name, eeh: c.eeh.ops.map((o) => o.op), dma: c.dma }))),
    });
    const first = view(results[0]!);
    expect(first.containers.flat().length).toBeGreaterThan(0);
    for (const r of results.slice(1)) expect(view(r)).toEqual(first);
  });
});
