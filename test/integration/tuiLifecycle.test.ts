// How `vfiotrace tui` ends a command it started: q and SIGTERM end it (never
// leave it running untraced with its seccomp filter), and the exit status is
// the command's, as for the text trace.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, until } from '../helpers/cli.js';
import { fixture, tracerUnavailable, waitForText } from '../helpers/trace.js';
import { CLI, Tmux, tmuxSkipReason } from '../tui/tmux.js';
import { leftoverPids, tmp } from './helpers.js';

const skip = tracerUnavailable() ?? tmuxSkipReason();
if (skip) console.warn(`skipping TUI lifecycle tests: ${skip}`);

/** The vfiotrace process tmux started (the pane's shell runs it as a child). */
function tuiPid(t: Tmux): number {
  const shell = Number(t.pane('pane_pid'));
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === shell && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(CLI)) return Number(e);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('vfiotrace process not found');
}

const exitStatus = async (t: Tmux): Promise<number> =>
  Number(/\[exit status (\d+)\]/.exec(await t.waitFor((s) => /\[exit status \d+\]/.test(s), 'the exit status', 30_000))![1]);

describe.skipIf(skip !== null)('tui ends what it started', () => {
  let dir: string;
  let tmux: Tmux | null = null;
  const leftovers = leftoverPids();
  beforeAll(() => {
    dir = tmp();
  });
  afterEach(() => {
    tmux?.kill();
    tmux = null;
  });

  async function startStubborn(name: string): Promise<{ t: Tmux; pid: number }> {
    const said = path.join(dir, `${name}.out`);
    const t = new Tmux();
    tmux = t;
    t.start([process.execPath, CLI, 'tui', '--target-output', said, '--', fixture('lingering'), 'stubborn'], { TMPDIR: dir });
    const pid = Number(/ready (\d+)/.exec(await waitForText(said, '\n', 30_000))![1]);
    leftovers.push(pid);
    await t.waitFor((s) => s.includes('VFIO_GET_API_VERSION'), 'traced calls on screen', 30_000);
    return { t, pid };
  }

  it('q ends a running command (SIGTERM, then SIGKILL when ignored) and exits with its status', async () => {
    const { t, pid } = await startStubborn('q');
    t.keys('q');
    expect(await exitStatus(t)).toBe(128 + 9);
    expect(alive(pid)).toBe(false);
  });

  it('q after the command exited gives its exit status', async () => {
    const said = path.join(dir, 'done.out');
    const t = new Tmux();
    tmux = t;
    t.start([process.execPath, CLI, 'tui', '--target-output', said, '--', fixture('loop'), '200', '1'], { TMPDIR: dir });
    await waitForText(said, 'done', 30_000);
    await t.waitFor((s) => s.includes('exited with 7') || /exit(ed)?\D+7/.test(s), 'the exit on screen', 30_000);
    t.keys('q');
    expect(await exitStatus(t)).toBe(7);
  });

  it('SIGTERM to the tui ends the command and exits with its status', async () => {
    const { t, pid } = await startStubborn('term');
    process.kill(tuiPid(t), 'SIGTERM');
    expect(await exitStatus(t)).toBe(128 + 9);
    await until(() => !alive(pid), 'the command to end');
  });
});
