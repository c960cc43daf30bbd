// The real `vfiotrace tui` in tmux: E opens the EEH timeline over a
// recording of an EEH recovery, with the band, the marks and the episode
// summary; E again closes it.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { writeEehRecording } from './recording.js';
import { CLI, Tmux, tmuxSkipReason } from './tmux.js';

const skip = tmuxSkipReason();
if (skip) console.warn(`skipping the TUI EEH view test: ${skip}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-eeh-'));
let tmux: Tmux | null = null;
afterEach(() => {
  tmux?.kill();
  tmux = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip !== null)('tui EEH view', () => {
  it('E shows the PE band, its ops and the recovery summary; E closes it', async () => {
    const rec = path.join(dir, 'eeh.vft');
    writeEehRecording(rec);
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', rec]);
    await tmux.waitFor((s) => s.includes('[ended'), 'the recording to be read', 30_000);
    tmux.type('E');
    const shot = await tmux.waitFor((s) => s.includes('EEH timeline') && s.includes('recovered in'), 'the EEH view', 30_000);
    expect(shot).toContain('PE of container 3</dev/vfio/vfio> [pid 4242]: 7 EEH ops');
    expect(shot).toMatch(/state =+X+/);
    expect(shot).toMatch(/ops +e.*g.*!.*H.*D.*C.*g/);
    expect(shot).toMatch(/found frozen at \d+\.\d{6} s/);
    expect(shot).toMatch(/by RESET_HOT, RESET_DEACTIVATE,/);
    // The band's STOPPED run is drawn in red (SGR 31).
    const coloured = tmux.screen(true).split('\n').find((l) => l.includes('state ') && l.includes('X'));
    expect(coloured).toMatch(/\x1b\[([0-9;]*;)?31[;m]X/);
    tmux.type('E');
    await tmux.waitFor((s) => !s.includes('recovered in') && s.includes('VFIO_EEH_PE_OP'), 'the view to close', 30_000);
    tmux.keys('q');
    await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the UI to exit', 30_000);
  });
});
