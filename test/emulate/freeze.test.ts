// A frozen PE as the device fd shows it: config space and BARs read
// all-ones, writes are dropped, and the contents come back at the thaw
// (exactly) or after a reset (the device's reset state), following the
// host kernel's vfio_spapr_eeh.c / eeh.c and PAPR's slot states.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { regionOffset } from '../../src/emulate/backing.js';
import { parseEehScript } from '../../src/emulate/eehScript.js';
import { powerEeh } from '../../src/emulate/profiles/powerEeh.js';
import { VFIO_SPAPR_TCE_v2_IOMMU } from '../../decoders/container.js';
import { VFIO_PCI_CONFIG_REGION_INDEX } from '../../decoders/device.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_INJECT_ERR, VFIO_EEH_PE_RESET_DEACTIVATE,
  VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_STATE_NORMAL, VFIO_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_STOPPED,
  VFIO_EEH_PE_STATE_STOPPED_DMA, VFIO_EEH_PE_STATE_UNAVAIL, VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { Harness } from './harness.js';
import type { EehRule } from '../../src/emulate/eehScript.js';

const CONFIG = Number(regionOffset(VFIO_PCI_CONFIG_REGION_INDEX));
const BAR0 = Number(regionOffset(0));
const BAR0_SIZE = powerEeh.pci.bars[0]!.size;

let h: Harness;
let c: number;
let dev: number;

function boot(rules: EehRule[] = []): void {
  h = new Harness(structuredClone(powerEeh), rules);
  c = h.setup(VFIO_SPAPR_TCE_v2_IOMMU).container;
  h.device();
  dev = openSync(h.k.backing.path, 'r+');
}
beforeEach(() => boot());
afterEach(() => {
  closeSync(dev);
  h.dispose();
});

/** pread through the device fd, as QEMU reads config space and BARs. */
function pread(at: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  expect(readSync(dev, b, 0, n, at)).toBe(n);
  return b;
}
const pwrite = (at: number, bytes: number[]): number => writeSync(dev, Buffer.from(bytes), 0, bytes.length, at);
const op = (o: number, extra: Record<string, number> = {}): number => h.call(c, 'VFIO_EEH_PE_OP', { op: o, ...extra }).ret;
const state = (): number => op(VFIO_EEH_PE_GET_STATE);
const ones = (n: number): Buffer => Buffer.alloc(n, 0xff);
const profileConfig = (): Buffer => Buffer.from(h.k.backing.config);
const inject = (): number => op(VFIO_EEH_PE_INJECT_ERR, { 'err.type': 0, 'err.func': 0, 'err.addr': 0, 'err.mask': 0 });

/** A live device: the command register set and a doorbell written in BAR0, near its end too. */
function useDevice(): { config: Buffer; bar: Buffer; tail: Buffer } {
  pwrite(CONFIG + 4, [0x06, 0x01]);
  pwrite(BAR0 + 0x10, [1, 2, 3, 4]);
  pwrite(BAR0 + BAR0_SIZE - 4, [0xde, 0xad, 0xbe, 0xef]);
  return { config: pread(CONFIG, 4096), bar: pread(BAR0, 64), tail: pread(BAR0 + BAR0_SIZE - 4, 4) };
}

describe('a frozen PE through the device fd', () => {
  it('INJECT_ERR freezes like the platform: GET_STATE STOPPED, config and BARs read all-ones', () => {
    const before = useDevice();
    expect(pread(CONFIG, 4)).not.toEqual(ones(4));
    expect(inject()).toBe(0);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED);
    expect(pread(CONFIG, 4096)).toEqual(ones(4096));
    expect(pread(BAR0, 64)).toEqual(ones(64));
    expect(pread(BAR0 + BAR0_SIZE - 4, 4)).toEqual(ones(4));
    expect(before.config.subarray(0, 2)).toEqual(Buffer.from([0xb3, 0x15]));
  });

  it('drops writes while frozen; UNFREEZE_IO thaws MMIO with the contents exactly as they were, DMA stays frozen', () => {
    const before = useDevice();
    inject();
    pwrite(CONFIG + 4, [0, 0]);
    pwrite(BAR0 + 0x10, [9, 9, 9, 9]);
    pwrite(BAR0 + 0x1000, [7]);
    expect(op(VFIO_EEH_PE_UNFREEZE_IO)).toBe(0);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED_DMA);
    expect(pread(CONFIG, 4096)).toEqual(before.config);
    expect(pread(BAR0, 64)).toEqual(before.bar);
    expect(pread(BAR0 + 0x1000, 1)).toEqual(Buffer.from([0]));
    expect(pread(BAR0 + BAR0_SIZE - 4, 4)).toEqual(before.tail);
    // MMIO works again: writes stick.
    pwrite(BAR0 + 0x10, [5]);
    expect(pread(BAR0 + 0x10, 1)).toEqual(Buffer.from([5]));
    op(VFIO_EEH_PE_UNFREEZE_DMA);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
  });

  it('a reset restores config space from the profile and BAR memory to its power-on zeros; all-ones while asserted', () => {
    useDevice();
    inject();
    op(VFIO_EEH_PE_UNFREEZE_IO); // error-log collection thaws MMIO first (eeh_slot_error_detail)
    expect(pread(CONFIG + 4, 2)).toEqual(Buffer.from([0x06, 0x01]));
    expect(op(VFIO_EEH_PE_RESET_HOT)).toBe(0);
    expect(state()).toBe(VFIO_EEH_PE_STATE_RESET);
    expect(pread(CONFIG, 4096)).toEqual(ones(4096));
    expect(pread(BAR0, 64)).toEqual(ones(64));
    op(VFIO_EEH_PE_RESET_DEACTIVATE);
    op(VFIO_EEH_PE_CONFIGURE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(pread(CONFIG, 4096)).toEqual(profileConfig());
    expect(pread(BAR0, 64)).toEqual(Buffer.alloc(64));
    expect(pread(BAR0 + BAR0_SIZE - 4, 4)).toEqual(Buffer.alloc(4));
  });

  it('a reset straight from the freeze (no thaw in between) also brings the reset state', () => {
    useDevice();
    inject();
    op(VFIO_EEH_PE_RESET_HOT);
    op(VFIO_EEH_PE_RESET_DEACTIVATE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(pread(CONFIG, 4096)).toEqual(profileConfig());
    expect(pread(BAR0, 64)).toEqual(Buffer.alloc(64));
  });

  it('VFIO_DEVICE_RESET while frozen does not reach the device until the thaw', () => {
    pwrite(CONFIG + 4, [0x06, 0x01]);
    inject();
    expect(h.call(5, 'VFIO_DEVICE_RESET').ret).toBe(0);
    expect(pread(CONFIG, 8)).toEqual(ones(8));
    op(VFIO_EEH_PE_UNFREEZE_IO);
    expect(pread(CONFIG, 4096)).toEqual(profileConfig());
  });

  it('a scripted freeze blocks MMIO until the listed recovery; ENABLE does not thaw it', () => {
    closeSync(dev);
    h.dispose();
    boot(parseEehScript('after 1 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE'));
    useDevice();
    op(VFIO_EEH_PE_ENABLE);
    expect(pread(CONFIG, 4)).toEqual(ones(4));
    op(VFIO_EEH_PE_UNFREEZE_IO);
    op(VFIO_EEH_PE_ENABLE);
    expect(pread(CONFIG, 4)).toEqual(ones(4));
    op(VFIO_EEH_PE_RESET_HOT);
    op(VFIO_EEH_PE_RESET_DEACTIVATE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(pread(CONFIG, 4096)).toEqual(profileConfig());
  });

  it('"now: state UNAVAIL" reads all-ones from the first access', () => {
    closeSync(dev);
    h.dispose();
    boot(parseEehScript('now: state UNAVAIL'));
    expect(pread(CONFIG, 4)).toEqual(ones(4));
    expect(state()).toBe(VFIO_EEH_PE_STATE_UNAVAIL);
  });

  it('a permanent freeze survives every recovery op', () => {
    useDevice();
    h.k.pe.freeze('test', true);
    for (const o of [VFIO_EEH_PE_UNFREEZE_IO, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_UNFREEZE_DMA]) op(o);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED);
    expect(pread(CONFIG, 4)).toEqual(ones(4));
  });

  it('a live freeze and thaw from the UI restore the contents exactly', () => {
    const before = useDevice();
    h.k.setPeState(VFIO_EEH_PE_STATE_STOPPED);
    expect(pread(BAR0, 64)).toEqual(ones(64));
    h.k.setPeState(VFIO_EEH_PE_STATE_NORMAL);
    expect(pread(CONFIG, 4096)).toEqual(before.config);
    expect(pread(BAR0, 64)).toEqual(before.bar);
  });
});

/** A process holding BAR0 mapped (as QEMU does), answering reads and writes through the mapping. */
function mapBar0(): { cmd: (line: string) => Promise<string>; close: () => void } {
  const p = spawn(peek, [h.k.backing.path, String(BAR0), String(BAR0_SIZE)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
  return {
    cmd: async (line) => {
      p.stdin!.write(line + '\n');
      const r = await lines.next();
      if (r.done) throw new Error('mmap_peek ended');
      return r.value;
    },
    close: () => p.stdin!.end(),
  };
}

const fixtures = mkdtempSync(path.join(tmpdir(), 'vft-freeze-'));
const peek = path.join(fixtures, 'mmap_peek');
execFileSync('cc', ['-O1', '-Wall', '-o', peek, path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mmap_peek.c')]);
afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

describe('a frozen PE through an mmapped BAR', () => {
  it('a mapping made before the freeze reads all-ones while frozen, its stores are dropped, and the thaw shows the contents again', async () => {
    const m = mapBar0();
    try {
      expect(await m.cmd('w 16 171')).toBe('ok');
      expect(await m.cmd('r 16 4')).toBe('ab000000');
      inject();
      expect(await m.cmd('r 16 4')).toBe('ffffffff');
      expect(await m.cmd(`r ${BAR0_SIZE - 4} 4`)).toBe('ffffffff');
      expect(await m.cmd('w 17 1')).toBe('ok');
      op(VFIO_EEH_PE_UNFREEZE_IO);
      expect(await m.cmd('r 16 4')).toBe('ab000000');
      op(VFIO_EEH_PE_RESET_HOT);
      expect(await m.cmd('r 16 4')).toBe('ffffffff');
      op(VFIO_EEH_PE_RESET_DEACTIVATE);
      expect(await m.cmd('r 16 4')).toBe('00000000');
    } finally {
      m.close();
    }
  });
});
