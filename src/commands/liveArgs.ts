// What every command that starts a live trace (trace, tui, audit, emulate)
// checks before anything runs: -p PIDs, -s BYTES and that COMMAND exists.
// One place, so the commands accept and refuse the same things.

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { Option } from 'commander';
import { BACKEND_CHOICES, defaultBackend, type CaptureStarted } from '../trace/backend.js';
import { MAX_PAYLOAD_CAP } from '../trace/native.js';

/** commander accumulator for repeatable options (-p, -e). */
export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Why exec would refuse `p`, in the OS's words (strerror), or null if it is an executable file. */
function execProblem(p: string): string | null {
  try {
    if (statSync(p).isDirectory()) return 'Is a directory';
    accessSync(p, constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'No such file or directory';
    if (code === 'EACCES') return 'Permission denied';
    if (code === 'ENOTDIR') return 'Not a directory';
    if (code === 'ELOOP') return 'Too many levels of symbolic links';
    return code ?? String(e);
  }
}

/**
 * PATH lookup as execvp does it, so a command that cannot run is a one-line
 * error before anything starts: the path found, or why not.
 */
export function findExecutable(cmd: string): { path: string } | { error: string } {
  if (cmd.includes('/')) {
    const why = execProblem(cmd);
    return why === null ? { path: cmd } : { error: why };
  }
  let found: string | null = null;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', cmd);
    const why = execProblem(p);
    if (why === null) return { path: p };
    // execvp reports EACCES if some candidate exists but cannot be run.
    if (why === 'Permission denied') found ??= why;
  }
  return { error: found ?? 'command not found in PATH' };
}

/** The -s option as every live command declares it (checked by checkLiveArgs). */
export function payloadCapOption(): Option {
  return new Option('-s, --payload-cap <bytes>', 'capture at most BYTES of each ioctl argument (0: none; at most 64 MiB)').default('4096');
}

/** --backend as every live command declares it. */
export function backendOption(): Option {
  return new Option('--backend <name>', 'how calls are captured: bpf (in the kernel; the traced processes never stop), ptrace, or auto (bpf where it loads, else ptrace; emulation always ptrace). Default: $VFIOTRACE_BACKEND, else auto')
    .choices(BACKEND_CHOICES)
    .default(defaultBackend());
}

/** -v: which backend was taken, and why, on stderr. */
export function describeBackend(started: Pick<CaptureStarted, 'backend' | 'why'>): string {
  return `capture backend: ${started.backend}, ${started.why}`;
}

/** -s BYTES: 0 (capture nothing) to the engine's 64 MiB. */
export function parsePayloadCap(text: string): number | null {
  return /^[0-9]+$/.test(text) && Number(text) <= MAX_PAYLOAD_CAP ? Number(text) : null;
}

export interface LiveArgs {
  pids: number[];
  payloadCap: number;
}

/**
 * Checks -p (repeatable, or comma lists as strace takes them), -s and the
 * command's executable. Returns the parsed values, or the one-line error.
 */
export function checkLiveArgs(a: { pids: readonly string[]; payloadCap: unknown; command: readonly string[] }): LiveArgs | { error: string } {
  const pids: number[] = [];
  for (const p of a.pids.flatMap((x) => x.split(','))) {
    if (!/^[1-9][0-9]*$/.test(p)) return { error: `invalid process id: '${p}'` };
    pids.push(Number(p));
  }
  const capText = String(a.payloadCap);
  const payloadCap = parsePayloadCap(capText);
  if (payloadCap === null) return { error: `invalid -s value: '${capText}' (bytes, 0 to 64 MiB)` };
  const exe = a.command[0];
  if (exe !== undefined) {
    const found = findExecutable(exe);
    if ('error' in found) return { error: `cannot run '${exe}': ${found.error}` };
  }
  return { pids, payloadCap };
}
