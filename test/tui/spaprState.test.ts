// The VFIO state pane on an sPAPR container: the TCE windows (the default
// 32-bit one GET_INFO reports, those TCE_CREATE made), the DDW limits and
// the preregistered memory, by the kernel's field names; from decoded
// events, through a recording, and on the real screen (80x24 too).

import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tuiDeps } from '../../src/commands/tui.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { SessionModel } from '../../src/model/session.js';
import { encodeRecording } from '../../src/trace/writer.js';
import { FileSource } from '../../src/tui/sources.js';
import { stateLines } from '../../src/tui/stateView.js';
import { CFD, DDW_START, Session, spaprDdwSession } from '../audit/qemu.js';
import { CLI, Tmux, tmuxSkipReason } from './tmux.js';
import { registry } from '../../decoders/index.js';

function lines(s: Session): string[] {
  const d = createDecoder(s.header, { registry: registry() });
  const m = new SessionModel();
  for (const r of s.traceRecords()) m.apply(d.decode(r));
  return stateLines(m.snapshot());
}

const WINDOWS = [
  '    TCE windows: 2',
  '      dma32_window_start 0x0 dma32_window_size 0x80000000 (default 32-bit window, #3)',
  '      start_addr 0x800000000000000 window_size 0x40000000 page_shift 16 levels 1 (#7)',
  '    DDW: pgsizes 0x1011000 max_dynamic_windows_supported 1 levels 5 (#3)',
  '    registered memory: 2 region(s), 0x40100000 bytes',
  '      vaddr 0x7f0000000000 size 0x40000000 (#4)',
  '      vaddr 0x7f8000000000 size 0x100000 (#5)',
];

describe('VFIO state pane, sPAPR', () => {
  it('lists the TCE windows, the DDW limits and the registered memory under the container', () => {
    const l = lines(spaprDdwSession());
    const at = l.indexOf(WINDOWS[0]!);
    expect(at).toBeGreaterThan(l.findIndex((x) => x.startsWith('  container fd 3: VFIO_SPAPR_TCE_v2_IOMMU')));
    expect(l.slice(at, at + WINDOWS.length)).toEqual(WINDOWS);
  });

  it('says when the default window was removed, and lists no window once none stands', () => {
    const s = spaprDdwSession()
      .ctr('VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: DDW_START } })
      .ctr('VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: 0 } })
      .ctr('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x40000000 } })
      .ctr('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f8000000000n, size: 0x100000 } });
    const text = lines(s).join('\n');
    expect(text).toContain('    TCE windows: none (default 32-bit window removed by #9)');
    expect(text).toContain('    registered memory: none');
    expect(text).not.toMatch(/start_addr|vaddr/);
  });

  it('shows nothing sPAPR on a type1 container', () => {
    const x86 = new Session('x86_64');
    x86.ctr('VFIO_GET_API_VERSION').grp('VFIO_GROUP_SET_CONTAINER', { fdArg: CFD }).ctr('VFIO_SET_IOMMU', { arg: 3 });
    const text = lines(x86).join('\n');
    expect(text).toContain('container fd 3: VFIO_TYPE1v2_IOMMU');
    expect(text).not.toMatch(/TCE|registered memory|DDW/);
  });
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-spapr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rec = path.join(dir, 'ddw.vft');
const session = spaprDdwSession().exit();
writeFileSync(rec, encodeRecording(session.header, session.records));

describe('FileSource on an sPAPR recording', () => {
  it('hands the pane the windows and the registered memory', async () => {
    const src = new FileSource(tuiDeps(null), rec, (p) => createReadStream(p));
    await src.run({ event: () => {}, late: () => {}, note: () => {} });
    const l = src.stateLines();
    const at = l.indexOf(WINDOWS[0]!);
    expect(l.slice(at, at + WINDOWS.length)).toEqual(WINDOWS);
  });
});

const skip = tmuxSkipReason();
if (skip) console.warn(`skipping the sPAPR state pane screen test: ${skip}`);
let tmux: Tmux | null = null;
afterEach(() => {
  tmux?.kill();
  tmux = null;
});

describe.skipIf(skip !== null)('the sPAPR state on the screen', () => {
  it.each([
    [160, 48],
    [80, 24],
  ])('at %ix%i the state pane shows the windows and the registered memory, j scrolling to them', async (w, h) => {
    tmux = new Tmux(w, h);
    tmux.start(['node', CLI, 'tui', rec]);
    await tmux.waitFor((s) => s.includes('[ended'), 'the recording to be read', 30_000);
    tmux.keys('Tab', 'Tab', 'Tab');
    await tmux.waitFor((s) => s.includes('VFIO state') && s.includes('[state]'), 'the state pane', 30_000);
    // The pane scrolls one line per j (on a small terminal it shows three).
    const scrollTo = async (re: RegExp): Promise<string> => {
      let shot = tmux!.screen();
      for (let i = 0; i < 16 && !re.test(shot); i++) {
        tmux!.keys('j');
        const before = shot;
        shot = await tmux!.waitFor((s) => s !== before, 'the pane to scroll', 30_000);
      }
      return shot;
    };
    expect(await scrollTo(/TCE windows: 2/)).toContain('TCE windows: 2');
    expect(await scrollTo(/dma32_window_start 0x0 /)).toMatch(/dma32_window_start 0x0 /);
    expect(await scrollTo(/start_addr 0x800000000000000 /)).toMatch(/start_addr 0x800000000000000 /);
    expect(await scrollTo(/registered memory: 2 region\(s\)/)).toContain('registered memory: 2 region(s)');
    tmux.keys('q');
    await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the UI to exit', 30_000);
  });
});
