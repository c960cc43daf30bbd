// Interrupts that fire: a real client (test/fixtures/irqloop.c) gives
// eventfds to INTx, MSI and MSI-X vectors under the emulated x86-pci kernel
// and fires them with the loopback trigger (SET_IRQS DATA_NONE / DATA_BOOL
// with ACTION_TRIGGER). The eventfds must count exactly what vfio-pci would
// signal: the vectors asked for that have an eventfd, for BOOL only where
// the byte is true, INTx even while masked, nothing once disabled.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { startEmulatedTrace } from '../../src/emulate/session.js';
import { EndReason } from '../../src/trace/events.js';
import { liveCaptureRules } from '../../src/session/pipeline.js';
import { fixture, toFile, tracerUnavailable } from '../helpers/trace.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(fixture('irqloop')) ? null : 'irqloop fixture not built (make -C test/fixtures)');
if (skip) console.warn(`skipping the interrupt loopback test: ${skip}`);

// Step, return value, then what eventfds 0..3 counted after it.
const EXPECTED = [
  'intx-set ret=0 0 0 0 0',
  'intx-mask ret=0 0 0 0 0',
  'intx-none ret=0 1 0 0 0',
  'intx-bool-false ret=0 0 0 0 0',
  'intx-bool-true ret=0 1 0 0 0',
  'intx-off ret=0 0 0 0 0',
  'msi-set ret=0 0 0 0 0',
  'msi-none ret=0 0 1 0 0',
  'msi-bool-false ret=0 0 0 0 0',
  'msi-bool-true ret=0 0 1 0 0',
  'msi-off ret=0 0 0 0 0',
  'msi-after-off ret=-22 0 0 0 0',
  'msix-set ret=0 0 0 0 0',
  'msix-unregistered ret=0 0 0 0 0',
  'msix-none-0 ret=0 1 0 0 0',
  'msix-bool-2-3 ret=0 0 0 1 0',
  'msix-none-all ret=0 1 0 1 1',
  'msix-off ret=0 0 0 0 0',
];

describe.skipIf(skip !== null)('the SET_IRQS loopback trigger signals the client’s eventfds', () => {
  it('INTx, MSI and MSI-X: DATA_NONE and DATA_BOOL true fire registered vectors; unregistered vectors and BOOL false do nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vft-irqloop-'));
    try {
      const out = join(dir, 'counts.txt');
      const s = startEmulatedTrace({ command: toFile([fixture('irqloop')], out), rules: liveCaptureRules() }, { profile: resolveProfile('x86-pci'), eeh: [] });
      s.stream.resume();
      const result = await s.done;
      expect([result.reason, result.status]).toEqual([EndReason.Exited, 0]);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(EXPECTED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
