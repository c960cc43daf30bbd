// Runs the compiled CLI (bin/vfiotrace.js → dist/) as a separate process, for
// tests that send it real signals or watch how it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtCliUnavailable } from './builtCli.js';
import { ROOT } from './trace.js';

export const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

/** Compiles dist/ when the sources are newer. Returns why the CLI cannot run, or null. */
export function cliUnavailable(): string | null {
  return builtCliUnavailable();
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Exit code, or 128+N when the CLI itself died of signal N. */
  exited: Promise<number>;
}

/** Starts `node bin/vfiotrace.js ARGS` with stdout ignored and stderr collected. */
export function startCli(args: string[], env: Record<string, string | undefined> = process.env): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, sig) => resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0)));
  });
  return { child, stderr: () => err, exited };
}

/** Polls `cond` every 20 ms until it holds; throws `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lines of a text trace that are ioctl calls. */
export function tracedCalls(file: string): number {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return text.split('\n').filter((l) => /^(\[pid +\d+\] )?ioctl\(/.test(l)).length;
}

/** Whether a process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
