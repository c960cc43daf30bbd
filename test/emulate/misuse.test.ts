// The auditor's misuse fixtures (test/fixtures/audit/*.c) under the emulated
// kernel: each gets the errno the kernel gives for that misuse, and the
// auditor still names exactly its rule. The emulator and the audit encode
// the same kernel semantics; this holds them to agreeing on the errors.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/index.js';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import type { DecodedEvent, DecodedIoctl } from '../../src/decode/types.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { startEmulatedTrace } from '../../src/emulate/session.js';
import { liveCaptureRules, openPipeline } from '../../src/session/pipeline.js';
import { buildFixtures, ROOT, tracerUnavailable } from '../helpers/trace.js';

const SRC = path.join(ROOT, 'test', 'fixtures', 'audit');
const why = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(path.join(SRC, 'audit.h')) ? null : 'no audit fixtures');
if (why) console.warn(`skipping misuse fixtures under emulation: ${why}`);

/** fixture → machine, the rule the auditor reports, the errno the offending call gets (null: it succeeds). */
const CASES: Record<string, ['x86-pci' | 'power-eeh', string, string | null]> = {
  get_device_fd_without_container: ['x86-pci', 'get-device-fd-without-container', 'EINVAL'],
  get_device_fd_before_set_iommu: ['x86-pci', 'get-device-fd-before-set-iommu', 'EINVAL'],
  iommu_ioctl_before_set_iommu: ['x86-pci', 'iommu-ioctl-before-set-iommu', 'EINVAL'],
  set_iommu_without_group: ['x86-pci', 'set-iommu-without-group', 'EINVAL'],
  set_iommu_repeated: ['x86-pci', 'set-iommu-repeated', 'EINVAL'],
  dma_unmap_unmapped: ['x86-pci', 'dma-unmap-unmapped', null],
  eeh_on_non_spapr_container: ['x86-pci', 'eeh-on-non-spapr-container', 'ENOTTY'],
  eeh_without_check_extension: ['power-eeh', 'eeh-without-check-extension', null],
  eeh_reset_not_deactivated: ['power-eeh', 'eeh-reset-not-deactivated', null],
  eeh_configure_without_reset: ['power-eeh', 'eeh-configure-without-reset', null],
};

async function events(profile: string, exe: string): Promise<DecodedEvent[]> {
  // The fixtures name the device 0000:06:0d.0.
  const p = resolveProfile(profile, { address: '0000:06:0d.0' });
  const s = startEmulatedTrace({ command: [exe], rules: liveCaptureRules() }, { profile: p });
  const pipe = await openPipeline(s.stream, {});
  const out: DecodedEvent[] = [];
  for await (const e of pipe.events()) out.push(e);
  await s.done;
  return out;
}

describe.skipIf(why !== null)('misuse fixtures under the emulated kernel', () => {
  // Our own build directory: other test files build the same fixtures concurrently.
  let BUILD = '';
  beforeAll(() => {
    BUILD = mkdtempSync(path.join(tmpdir(), 'vft-emu-misuse-'));
    buildFixtures(SRC, BUILD, Object.keys(CASES));
  });
  afterAll(() => rmSync(BUILD, { recursive: true, force: true }));

  for (const [name, [profile, rule, errno]] of Object.entries(CASES)) {
    it(`${name}: ${errno ?? 'success'} from the emulated kernel, ${rule} from the audit`, async () => {
      const evs = await events(profile, path.join(BUILD, name));
      const seq = audit(evs).filter((f) => f.source === 'sequence');
      // With real answers the audit may see more: EEH asked after CHECK_EXTENSION said 0.
      const extra = name === 'eeh_on_non_spapr_container' ? ['eeh-after-check-said-no'] : [];
      expect(seq.map((f) => f.rule).sort()).toEqual([rule, ...extra].sort());
      const finding = seq.find((f) => f.rule === rule)!;
      const at = evs.find((e): e is DecodedIoctl => e.kind === 'ioctl' && e.seq === finding.seq)!;
      expect(at.ret.errno, `${at.ioctl} = ${at.ret.value}`).toBe(errno);
    });
  }
});
