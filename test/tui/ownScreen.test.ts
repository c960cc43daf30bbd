// The real `vfiotrace tui` in tmux over a recording of a command started
// inside vfiotrace's own wrapper (as `tui --emulate` records it): the
// wrapper's events are left out and counted, h lists them and hides them
// again; at 80x24 as on a large terminal.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { demoClientPath } from '../../src/commands/demo.js';
import { liveSkipReason } from '../integration/helpers.js';
import { writeWrappedRecording } from './recording.js';
import { CLI, Tmux, tmuxSkipReason } from './tmux.js';

const skip = tmuxSkipReason();
if (skip) console.warn(`skipping the TUI own-process screen test: ${skip}`);
const emuSkip = skip ?? liveSkipReason() ?? emulationUnavailable();
if (!skip && emuSkip) console.warn(`skipping the live emulated TUI test: ${emuSkip}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-own-'));
let tmux: Tmux | null = null;
afterEach(() => {
  tmux?.kill();
  tmux = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip !== null)("tui and vfiotrace's own processes", () => {
  const rec = path.join(dir, 'wrapped.vft');
  const { own } = writeWrappedRecording(rec);

  it.each([
    [160, 48],
    [80, 24],
  ])('at %ix%i lists the command only, counts the rest, and h shows and hides it', async (w, h) => {
    tmux = new Tmux(w, h);
    tmux.start(['node', CLI, 'tui', rec]);
    // Each wait names every string the frame must hold: a capture can catch
    // the screen half redrawn, so one string seen says nothing of the others.
    const all = (...parts: string[]) => (scr: string) => parts.every((p) => scr.includes(p));
    const first = await tmux.waitFor(all('[ended', `(+${own} hidden: vfiotrace's own, h shows)`, `errors 1, ${own} hidden)`), 'the recording to be read', 30_000);
    expect(first).not.toMatch(/mount|mkdir|unshare|dash/);
    tmux.type('h');
    await tmux.waitFor(all(`(${own} of vfiotrace's own, h hides)`, `showing ${own} events of vfiotrace's own processes`), 'the own events to be listed', 30_000);
    tmux.keys('g');
    await tmux.waitFor(all('+++ exec /usr/bin/unshare +++', '+++ exec /usr/bin/mount +++'), 'the first of them at the top', 30_000);
    tmux.type('h');
    const again = await tmux.waitFor((scr) => scr.includes(`(+${own} hidden`) && !scr.includes('/usr/bin/unshare'), 'them to be hidden again', 30_000);
    expect(again).not.toContain('/usr/bin/unshare');
    tmux.keys('q');
    await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the UI to exit', 30_000);
  });
});

describe.skipIf(emuSkip !== null)("tui --emulate and vfiotrace's own processes", () => {
  it('lists the demo client from its exec on, none of the sandbox\'s unshare, sh or mount', async () => {
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', '--emulate', 'power-eeh', '--', demoClientPath(), 'spapr'], { TMPDIR: dir });
    const shot = await tmux.waitFor((s) => s.includes('[ended') && s.includes('trace ended'), 'the demo client to finish', 60_000);
    const hidden = /\(\+(\d+) hidden: vfiotrace's own, h shows\)/.exec(shot);
    expect(Number(hidden?.[1])).toBeGreaterThan(20);
    expect(shot).toContain('VFIO_EEH_PE_OP');
    // The traced pid only: its wrapper's helpers are no part of the command.
    expect(shot).toMatch(/^pids \d+ {2}/m);
    tmux.keys('g');
    const top = await tmux.waitFor((s) => s.includes(`+++ exec ${demoClientPath()}`), 'the first row: the client\'s exec', 30_000);
    expect(top).not.toMatch(/unshare|mount|dash|started sh/);
    tmux.keys('q');
    await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the UI to exit', 30_000);
  });
});
