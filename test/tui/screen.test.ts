// The real `vfiotrace tui` in a tmux pseudo-terminal: on a recording, and live
// on a fixture (attached and spawned) where tracing is possible.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { liveSkipReason } from '../integration/helpers.js';
import { writeEehRecording } from './recording.js';
import { CLI, ROOT, Tmux, tmuxSkipReason } from './tmux.js';

const skip = tmuxSkipReason();
const liveSkip = skip ?? liveSkipReason();
if (skip) console.warn(`skipping TUI screen tests: ${skip}`);
else if (liveSkip) console.warn(`skipping live TUI tests: ${liveSkip}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-'));
let tmux: Tmux | null = null;
let children: ChildProcess[] = [];
const pidsToKill: number[] = [];

// Live runs leave their spool recording and the command's output in TMPDIR: point it here.
const liveEnv = { TMPDIR: dir };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  tmux?.kill();
  tmux = null;
  for (const c of children) c.kill('SIGKILL');
  children = [];
  for (const p of pidsToKill.splice(0)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Indices (0–15) of the highlighted bytes on the first hex line after `marker`. */
function highlightedBytes(screenWithEscapes: string, marker: string): number[] {
  const lines = screenWithEscapes.split('\n');
  const start = lines.findIndex((l) => l.includes(marker));
  const line = lines.slice(start + 1).find((l) => l.includes('0000:'));
  if (start < 0 || !line) return [];
  const s = line.slice(line.indexOf('0000:') + 5);
  const out: number[] = [];
  let on = false;
  let k = 0;
  const re = /\x1b\[([0-9;]*)m|([0-9a-f]{2})(?= |\x1b)|( {2,}\S)/g;
  for (let m = re.exec(s); m && k < 16; m = re.exec(s)) {
    if (m[1] !== undefined) {
      for (const p of m[1].split(';')) {
        if (p === '43') on = true;
        else if (p === '49' || p === '0' || p === '') on = false;
      }
    } else if (m[2] !== undefined) {
      if (on) out.push(k);
      k++;
    }
  }
  return out;
}

function selectedDetailLine(screenWithEscapes: string): string | undefined {
  // The selected line is drawn in inverse (SGR 7); only tree lines carry a direction.
  return screenWithEscapes.split('\n').find((l) => /\x1b\[([0-9;]*;)?7[;m]/.test(l) && /(in |out|io ) \S+ \S+ = /.test(l));
}

describe.skipIf(skip !== null)('tui on a recording', () => {
  const rec = path.join(dir, 'eeh.vft');
  writeEehRecording(rec);

  it('shows the decoded EEH calls, filters, highlights a field, and restores the terminal on q', async () => {
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', rec]);
    const first = await tmux.waitFor((s) => s.includes('[ended'), 'the recording to be read');
    expect(first).toContain('VFIO_EEH_PE_OP');
    expect(first).toContain('VFIO_EEH_PE_GET_STATE');
    expect(first).toMatch(/ioctls 11\b/);
    expect(first).toContain('p9-test');
    expect(tmux.pane('alternate_on')).toBe('1');
    // The failed call is drawn in red (SGR 31), a successful one is not.
    const coloured = tmux.screen(true).split('\n');
    expect(coloured.find((l) => l.includes('EINVAL'))).toMatch(/\x1b\[([0-9;]*;)?31[;m]/);
    expect(coloured.find((l) => l.includes('VFIO_SET_IOMMU'))).not.toMatch(/\x1b\[([0-9;]*;)?31[;m]/);

    // `/errors`: only the RESET_HOT with non-zero flags failed.
    tmux.type('/errors');
    tmux.keys('Enter');
    const filtered = await tmux.waitFor((s) => s.includes('(filter: errors)'), 'the filter');
    expect(filtered).toMatch(/events 1 \(filter: errors\)/);
    const rows = filtered.split('\n').filter((l) => l.includes('3<container>'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('EINVAL');

    // Into the detail pane, down to the `op` field: its 4 bytes at offset 8 light up.
    tmux.keys('Tab');
    let shot = '';
    for (let i = 0; i < 40 && !/op __u32/.test(selectedDetailLine(shot) ?? ''); i++) {
      tmux.keys('j');
      await new Promise((r) => setTimeout(r, 80));
      shot = tmux.screen(true);
    }
    expect(selectedDetailLine(shot)).toMatch(/op __u32 = VFIO_EEH_PE_RESET_HOT/);
    expect(highlightedBytes(shot, 'entry (40 bytes)')).toEqual([8, 9, 10, 11]);

    tmux.keys('q');
    const after = await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the UI to exit');
    expect(after).not.toContain('VFIO_EEH_PE_OP');
    expect(tmux.pane('alternate_on')).toBe('0');
    expect(tmux.pane('cursor_flag')).toBe('1');
  });

  it('selects the row under a mouse click, jumps to a finding\'s event, writes the recording on w', async () => {
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', rec]);
    await tmux.waitFor((s) => s.includes('[ended'), 'the recording to be read');
    // Rows: header (0-1), list border (2), column titles (3), then events from row 4.
    await tmux.click(20, 5);
    const s = await tmux.waitFor((x) => x.includes('#1 VFIO_GET_API_VERSION'), 'the clicked event in the detail pane');
    expect(s).not.toContain('end of trace');
    // Findings pane (two Tabs from the list), Enter: the event it is about.
    tmux.keys('Tab', 'Tab', 'Enter');
    await tmux.waitFor((x) => x.includes('#7 VFIO_EEH_PE_OP') && x.includes('[list]'), 'the jump to the finding\'s event');
    const out = path.join(dir, 'written.vft');
    tmux.keys('w');
    await tmux.waitFor((x) => x.includes('write recording to:'), 'the write prompt');
    tmux.keys('C-u');
    tmux.type(out);
    tmux.keys('Enter');
    await tmux.waitFor((x) => x.includes(`wrote ${out}`), 'the write to finish');
    expect(readFileSync(out)).toEqual(readFileSync(rec));
    tmux.keys('s');
    const summary = await tmux.waitFor((x) => x.includes('summary (j/k scroll, Esc closes)'), 'the summary table');
    expect(summary).toMatch(/VFIO_EEH_PE_OP\s+7\s+1\b/);
    tmux.keys('Escape');
    await tmux.waitFor((x) => !x.includes('summary (j/k scroll, Esc closes)'), 'the summary to close');
    tmux.keys('q');
    await tmux.waitFor((x) => x.includes('[exit status 0]'), 'the UI to exit');
  });

  it('restores the terminal when killed with SIGTERM', async () => {
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', rec]);
    await tmux.waitFor((s) => s.includes('[ended'), 'the recording to be read');
    const shell = Number(tmux.pane('pane_pid'));
    const node = Number(execFileSync('pgrep', ['-P', String(shell), 'node'], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(node).toBeGreaterThan(0);
    process.kill(node, 'SIGTERM');
    const s = await tmux.waitFor((x) => x.includes('[exit status'), 'the UI to exit');
    expect(s).toContain('[exit status 143]');
    expect(tmux.pane('alternate_on')).toBe('0');
    expect(tmux.pane('cursor_flag')).toBe('1');
  });

  it('keeps what it read from a recording cut short, and says so', async () => {
    const cut = path.join(dir, 'cut.vft');
    writeEehRecording(cut);
    truncateSync(cut, statSync(cut).size - 20);
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', cut]);
    // One frame holding all three: a capture can catch the screen half drawn.
    const s = await tmux.waitFor((x) => x.includes('[error') && x.includes('VFIO_EEH_PE_OP') && /error: .*(truncated|cut)/i.test(x), 'the error state');
    expect(s).toMatch(/error: .*(truncated|cut)/i);
    tmux.keys('q');
    await tmux.waitFor((x) => x.includes('[exit status 0]'), 'the UI to exit');
  });

  it('refuses a file that is not a recording before touching the screen', async () => {
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', path.join(ROOT, 'package.json')]);
    const s = await tmux.waitFor((x) => x.includes('[exit status'), 'the command to fail');
    expect(s).toContain('not a vfiotrace recording');
    expect(s).toContain('[exit status 2]');
  });
});

describe.skipIf(liveSkip !== null)('tui live', () => {
  const bin = path.join(dir, 'eeh_loop');
  const build = () => execFileSync('cc', ['-O1', '-Wall', '-o', bin, path.join(ROOT, 'test/tui/fixtures/eeh_loop.c')]);
  const progress = (f: string) => Number(readFileSync(f, 'utf8').trim() || '0');
  const waitProgress = async (f: string, above: number) => {
    for (let i = 0; i < 100; i++) {
      try {
        if (progress(f) > above) return progress(f);
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${f} did not advance past ${above}`);
  };

  it('attaches, shows the EEH calls live, and leaves the target running after q', async () => {
    build();
    const count = path.join(dir, 'attach.count');
    const child = spawn(sandboxArgv([bin, count])[0] as string, sandboxArgv([bin, count]).slice(1), { stdio: 'ignore' });
    children.push(child);
    await waitProgress(count, 0);
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', '-p', String(child.pid)], liveEnv);
    const s = await tmux.waitFor((x) => /VFIO_EEH_PE_OP.*VFIO_EEH_PE_GET_STATE/.test(x), 'live EEH calls');
    expect(s).toContain(`attached to ${child.pid}`);
    tmux.keys('q');
    await tmux.waitFor((x) => x.includes('[exit status 0]'), 'the UI to exit');
    expect(tmux.pane('alternate_on')).toBe('0');
    const at = progress(count);
    expect(await waitProgress(count, at + 3)).toBeGreaterThan(at);
    expect(child.exitCode).toBeNull();
  });

  it('spawns a command with its output kept off the screen', async () => {
    build();
    const count = path.join(dir, 'spawn.count');
    tmux = new Tmux();
    tmux.start(['node', CLI, 'tui', '--', ...sandboxArgv([bin, count])], liveEnv);
    const s = await tmux.waitFor((x) => /VFIO_EEH_PE_OP.*VFIO_EEH_PE_GET_STATE/.test(x), 'live EEH calls');
    const pid = Number(/pids (\d+)/.exec(s)?.[1]);
    expect(pid).toBeGreaterThan(0);
    pidsToKill.push(pid);
    tmux.keys('space');
    await tmux.waitFor((x) => x.includes('[paused'), 'the paused state');
    tmux.keys('q');
    // q ends a command the UI started (SIGTERM): left running untraced, its
    // seccomp filter would fail its VFIO ioctls with ENOSYS.
    const after = await tmux.waitFor((x) => x.includes('[exit status 143]'), 'the UI to exit with the command\'s status', 30_000);
    expect(after).toMatch(/recording of this session: .*\.vft/);
    expect(after).not.toMatch(/keeps running/);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
