// Drives the real CLI in a tmux pseudo-terminal: a private tmux server per
// test file (its own socket), keys sent with send-keys, the screen read with
// capture-pane (-e keeps the escape sequences, to see colours).

import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCliUnavailable } from '../helpers/builtCli.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

/**
 * The tests run the compiled CLI (bin/vfiotrace.js → dist/), so compile first
 * when the sources are newer. Returns why the tests cannot run, or null.
 */
export function tmuxSkipReason(): string | null {
  if (spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status !== 0) return 'tmux is not installed';
  return builtCliUnavailable(path.join('commands', 'tui.js'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Tmux {
  private readonly socket = `vfiotrace-tui-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(readonly width = 160, readonly height = 48) {}

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Starts `argv` in a fresh session; the shell reports the exit status afterwards. */
  start(argv: string[], env: Record<string, string> = {}): void {
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const envs = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    const script = `${envs} ${quoted}; echo "[exit status $?]"; sleep 600`;
    this.tmux(['new-session', '-d', '-s', 'ui', '-x', String(this.width), '-y', String(this.height), 'sh', '-c', script]);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'ui', ...keys]);
  }

  /** Literal text (no key-name lookup). */
  type(text: string): void {
    this.tmux(['send-keys', '-t', 'ui', '-l', text]);
  }

  /**
   * A left click at 0-based column x, row y, in the X10 mouse encoding the
   * UI asks tmux for; press and release go separately, as a terminal sends them.
   */
  async click(x: number, y: number): Promise<void> {
    const at = String.fromCharCode(32 + x + 1, 32 + y + 1);
    this.type(`\x1b[M ${at}`);
    await sleep(100);
    this.type(`\x1b[M#${at}`);
  }

  screen(escapes = false): string {
    return this.tmux(['capture-pane', '-t', 'ui', '-p', ...(escapes ? ['-e'] : [])]);
  }

  /** tmux format variable of the pane, e.g. alternate_on. */
  pane(fmt: string): string {
    return this.tmux(['display-message', '-t', 'ui', '-p', `#{${fmt}}`]).trim();
  }

  /** Polls the screen until `pred` holds (or throws with the last screen). */
  async waitFor(pred: (screen: string) => boolean, what: string, timeoutMs = 60_000, escapes = false): Promise<string> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      last = this.screen(escapes);
      if (pred(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}; screen was:\n${last}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}
