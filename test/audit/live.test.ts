// The C misuse fixtures (test/fixtures/audit/*.c), one per intent rule, run
// live under the tracer in the /dev sandbox via `vfiotrace audit --json`.
// Every VFIO ioctl fails with ENOTTY here, so these are exactly the rules
// defined over what the caller asked for.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/commands/audit.js';
import type { JsonReport } from '../../src/audit/report.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { buildFixtures, fixture, ROOT, sandboxUnavailable, tracerUnavailable } from '../helpers/trace.js';

const SRC = path.join(ROOT, 'test', 'fixtures', 'audit');
const BUILD = path.join(ROOT, 'test', 'fixtures', 'build', 'audit');

const why = tracerUnavailable() ?? sandboxUnavailable();
if (why) console.warn(`skipping live audit fixtures: ${why}`);

/** fixture file → the one sequence rule it must trigger. */
const CASES: Record<string, string> = {
  get_device_fd_without_container: 'get-device-fd-without-container',
  get_device_fd_before_set_iommu: 'get-device-fd-before-set-iommu',
  iommu_ioctl_before_set_iommu: 'iommu-ioctl-before-set-iommu',
  set_iommu_without_group: 'set-iommu-without-group',
  set_iommu_repeated: 'set-iommu-repeated',
  device_ioctl_before_bind: 'device-ioctl-before-bind',
  dma_unmap_unmapped: 'dma-unmap-unmapped',
  eeh_without_check_extension: 'eeh-without-check-extension',
  eeh_on_non_spapr_container: 'eeh-on-non-spapr-container',
  eeh_reset_not_deactivated: 'eeh-reset-not-deactivated',
  eeh_configure_without_reset: 'eeh-configure-without-reset',
};

let out: string;

async function auditFixture(name: string): Promise<{ code: number; report: JsonReport }> {
  const file = path.join(out, `${name}.json`);
  const code = await run(['--json', '-o', file, '--', ...sandboxArgv([path.join(BUILD, name)])]);
  return { code, report: JSON.parse(readFileSync(file, 'utf8')) as JsonReport };
}

describe.skipIf(why !== null)('audit of live C fixtures (sandbox, ENOTTY)', () => {
  beforeAll(() => {
    buildFixtures(SRC, BUILD);
    out = mkdtempSync(path.join(tmpdir(), 'vft-audit-live-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('every fixture has a case and every case a fixture', () => {
    const fixtures = readdirSync(SRC).filter((x) => x.endsWith('.c')).map((x) => x.slice(0, -2));
    expect(fixtures.sort()).toEqual([...Object.keys(CASES), 'clean'].sort());
  });

  for (const [name, rule] of Object.entries(CASES)) {
    it(`${name} → exactly ${rule}`, async () => {
      const { code, report } = await auditFixture(name);
      const seq = report.findings.filter((f) => f.source === 'sequence');
      expect(seq.map((f) => f.rule), JSON.stringify(seq, null, 1)).toEqual([rule]);
      expect(report.error).toBeNull();
      expect(report.events).toBeGreaterThan(0);
      // The example carries the strace-style line of the event it names.
      const ex = report.rules.find((r) => r.rule === rule)!.examples[0]!;
      expect(ex.lines[String(ex.seq)]).toMatch(/^(\[pid \d+\] )?ioctl\(/);
      expect(code).toBe(seq[0]!.severity === 'info' && report.counts.warning + report.counts.error === 0 ? 0 : 1);
    });
  }

  it('the clean QEMU-like client (type1, then sPAPR + EEH recovery) → no sequence findings', async () => {
    const { report } = await auditFixture('clean');
    expect(report.findings.filter((f) => f.source === 'sequence')).toEqual([]);
    expect(report.events).toBeGreaterThan(15);
  });

  it('-p PID: attaches to a running client, audits until it exits, leaves it running to its own exit', async () => {
    // The target runs under a shell, so it is not this process's child (the tracer reaps what it traces).
    const argv = sandboxArgv([fixture('loop'), '800', '2']);
    const sh = spawn('sh', ['-c', '"$@" & echo "pid $!"; wait $!; echo "exit $?"', 'sh', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const waiters: Array<() => void> = [];
    sh.stdout!.on('data', (b: Buffer) => {
      stdout += b.toString();
      for (const w of waiters.splice(0)) w();
    });
    const seen = (re: RegExp): Promise<RegExpExecArray> =>
      new Promise((resolve) => {
        const check = (): void => {
          const m = re.exec(stdout);
          if (m) resolve(m);
          else waiters.push(check);
        };
        check();
      });
    const pid = Number((await seen(/pid (\d+)/))[1]);
    await seen(/ready/);
    const file = path.join(out, 'attach.json');
    const code = await run(['--json', '-o', file, '-p', String(pid)]);
    const report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
    expect(report.error).toBeNull();
    expect(report.events).toBeGreaterThan(10);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect((await seen(/exit (\d+)/))[1]).toBe('7');
  });
});
