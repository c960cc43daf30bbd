// Runs the compiled CLI (bin/vfiotrace.js → dist/) as a separate process, for
// tests that send it real signals or watch how it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtCliUnavailable } from './builtCli.js';
import { startTrace } from '../../src/trace/native.js';
import { ROOT, sandboxUnavailable, tracerUnavailable } from './trace.js';

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

/** Live processes whose stdout is `file` (a command started through toFile, whatever it reached). */
export function writersOf(file: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/fd/1`) === file && alive(Number(e))) pids.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** The exit code, or null when `ms` pass first (a hang fails the test instead of timing it out). */
export async function exitWithin(p: CliProcess, what: string, ms = 30_000): Promise<number> {
  let code: number | null = null;
  void p.exited.then((c) => (code = c));
  await until(() => code !== null, what, ms);
  return code!;
}

/**
 * Why the eBPF backend's tests cannot run here (no tracer, sandbox or CLI, or
 * eBPF does not load), or null. The probe session traces `true` to its end.
 */
export function bpfUnavailable(): string | null {
  const other = tracerUnavailable() ?? sandboxUnavailable() ?? cliUnavailable();
  if (other) return other;
  try {
    const probe = startTrace({ command: ['true'], rules: [], backend: 'bpf' });
    probe.stream.resume();
    probe.done.catch(() => {}); // its end is of no interest
    return null;
  } catch (e) {
    return `the eBPF backend cannot load here (${(e as Error).message})`;
  }
}
