// What every command that starts a live trace (trace, tui, audit, emulate)
// checks before anything runs: -p PIDs, -s BYTES and that COMMAND exists.
// One place, so the commands accept and refuse the same things.

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { Option } from 'commander';
import { MAX_PAYLOAD_CAP } from '../trace/native.js';

/** commander accumulator for repeatable options (-p, -e). */
export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** PATH lookup, so a missing command is a one-line error before anything starts. */
export function findExecutable(cmd: string): string | null {
  const ok = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(cmd) ? cmd : null;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', cmd);
    if (ok(p)) return p;
  }
  return null;
}

/** The -s option as every live command declares it (checked by checkLiveArgs). */
export function payloadCapOption(): Option {
  return new Option('-s, --payload-cap <bytes>', 'capture at most BYTES of each ioctl argument (0: none; at most 64 MiB)').default('4096');
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
  if (exe !== undefined && findExecutable(exe) === null) return { error: `cannot run '${exe}': no such executable` };
  return { pids, payloadCap };
}
