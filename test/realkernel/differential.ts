// Holds the emulator to the real kernel: runs a corpus client under
// `vfiotrace emulate` at the golden's address and group, decodes both
// recordings to JSON lines and compares them call by call — the request,
// the return value, the errno, what the caller passed and every field the
// kernel wrote back — plus what the client printed (eventfd counts).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const GOLDEN_DIR = path.join(ROOT, 'test', 'realkernel', 'golden');
export const CLIENT_DIR = path.join(ROOT, 'native', 'build', 'realkernel');
const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

/** Which emulator profile answers for which guest device. */
export const PROFILE_OF: Readonly<Record<string, string>> = { edu: 'edu', e1000e: 'x86-pci' };

export interface Manifest {
  release: string;
  devices: { name: string; address: string; group: number }[];
  clients: string[];
}

export function readManifest(series: string): Manifest {
  return JSON.parse(readFileSync(path.join(GOLDEN_DIR, series, 'manifest.json'), 'utf8')) as Manifest;
}

/** The kernel series with goldens (directory names under golden/). */
export function goldenSeries(): string[] {
  return ['6.1', '6.12'].filter((s) => existsSync(path.join(GOLDEN_DIR, s, 'manifest.json')));
}

/** The compared part of one decoded call. */
export interface Call {
  ioctl: string | null;
  fd_kind: string;
  ret: number | null;
  errno: string | null;
  in: unknown;
  out: unknown;
}

function calls(jsonl: string): Call[] {
  return jsonl
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o['type'] === 'ioctl')
    .map((o) => ({ ioctl: o['ioctl'] as string | null, fd_kind: o['fd_kind'] as string, ret: o['ret'] as number | null, errno: o['errno'] as string | null, in: o['in'], out: o['out'] }));
}

export function decodeFile(file: string): Call[] {
  const r = spawnSync(process.execPath, [CLI, 'show', '--json', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`vfiotrace show ${file}: ${r.stderr.trim()}`);
  return calls(r.stdout);
}

export interface EmulatedRun {
  calls: Call[];
  stdout: string;
  status: number | null;
  stderr: string;
}

/** Runs `client` under the emulator as the guest's `device` (address, group from the manifest). */
export async function runEmulated(client: string, device: { name: string; address: string; group: number }, kernel: string): Promise<EmulatedRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vft-rk-'));
  try {
    const out = path.join(dir, 'trace.jsonl');
    const args = [CLI, 'emulate', '--device', PROFILE_OF[device.name]!, '--address', device.address, '--group', String(device.group), '--kernel', kernel, '--json', '-o', out, '--', path.join(CLIENT_DIR, client), device.address];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
    return { calls: calls(text), stdout, status, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `jobs` with at most `width` at a time, keeping their order. */
export async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

/** Every difference between two decoded values, as "path: golden X, emulated Y". */
function diffValue(where: string, a: unknown, b: unknown, out: string[]): void {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) {
      out.push(`${where}: golden ${JSON.stringify(a)}, emulated ${JSON.stringify(b)}`);
      return;
    }
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of new Set([...ka, ...kb])) {
      const sub = Array.isArray(a) ? `${where}[${k}]` : `${where}.${k}`;
      diffValue(sub, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${where}: golden ${JSON.stringify(a)}, emulated ${JSON.stringify(b)}`);
}

/** Call-by-call disagreements, each naming the call's index and ioctl. */
export function compareCalls(golden: Call[], emulated: Call[]): string[] {
  const out: string[] = [];
  const n = Math.max(golden.length, emulated.length);
  for (let i = 0; i < n; i++) {
    const g = golden[i];
    const e = emulated[i];
    if (!g || !e) {
      out.push(`call ${i}: golden ${g ? g.ioctl : 'has no such call'}, emulated ${e ? e.ioctl : 'has no such call'}`);
      continue;
    }
    const diffs: string[] = [];
    for (const key of ['ioctl', 'fd_kind', 'ret', 'errno'] as const) {
      if (g[key] !== e[key]) diffs.push(`${key}: golden ${JSON.stringify(g[key])}, emulated ${JSON.stringify(e[key])}`);
    }
    diffValue('in', g.in, e.in, diffs);
    diffValue('out', g.out, e.out, diffs);
    for (const d of diffs) out.push(`call ${i} ${g.ioctl ?? '?'}: ${d}`);
  }
  return out;
}
