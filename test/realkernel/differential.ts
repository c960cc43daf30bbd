// Holds the emulator to the real kernel: runs a corpus client under
// `vfiotrace emulate` at the golden's address and group, decodes both
// recordings to JSON lines and compares them call by call — the request,
// the return value, the errno, what the caller passed and every field the
// kernel wrote back — plus what the client printed (eventfd counts). A
// client with threads or children is compared thread by thread (lanes.ts).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { laneNames, lanesOf, type Lane, type TraceEvent } from './lanes.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const GOLDEN_DIR = path.join(ROOT, 'test', 'realkernel', 'golden');
export const CLIENT_DIR = path.join(ROOT, 'native', 'build', 'realkernel');
const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

/** Which emulator profile answers for which guest device. */
export const PROFILE_OF: Readonly<Record<string, string>> = { edu: 'edu', e1000e: 'x86-pci' };

/** One corpus entry (scripts/realkernel/boot.mjs CORPUS): recorded as NAME.DEVICE. */
export interface CorpusEntry {
  name: string;
  /** the program, native/build/realkernel/CLIENT */
  client: string;
  /** `spawn` (vfiotrace-record -- CLIENT), `follow` (with -f) or `attach` (-p PID) */
  record: 'spawn' | 'follow' | 'attach';
}

export interface Manifest {
  release: string;
  devices: { name: string; address: string; group: number }[];
  clients: CorpusEntry[];
  status: { [item: string]: number };
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

function events(jsonl: string): TraceEvent[] {
  return jsonl
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TraceEvent);
}

function toCall(o: TraceEvent): Call {
  return { ioctl: o['ioctl'] as string | null, fd_kind: o['fd_kind'] as string, ret: o['ret'] as number | null, errno: o['errno'] as string | null, in: o['in'], out: o['out'] };
}

/** Every event of a recording, as `vfiotrace show --json` decodes it. */
export function decodeFile(file: string): TraceEvent[] {
  const r = spawnSync(process.execPath, [CLI, 'show', '--json', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`vfiotrace show ${file}: ${r.stderr.trim()}`);
  return events(r.stdout);
}

/** decodeFile without blocking: for decoding many recordings side by side (pool). */
export async function decodeFileAsync(file: string): Promise<TraceEvent[]> {
  const child = spawn(process.execPath, [CLI, 'show', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (status !== 0) throw new Error(`vfiotrace show ${file}: ${stderr.trim()}`);
  return events(stdout);
}

export function ioctls(all: TraceEvent[]): TraceEvent[] {
  return all.filter((e) => e.type === 'ioctl');
}

export interface EmulatedRun {
  events: TraceEvent[];
  stdout: string;
  status: number | null;
  stderr: string;
}

/** Runs `client` under the emulator as the guest's `device` (address, group
 * from the manifest). The emulator follows children whether or not -f is
 * given (their calls must be answered too). */
export async function runEmulated(client: string, device: { name: string; address: string; group: number }, kernel: string): Promise<EmulatedRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vft-rk-'));
  try {
    const out = path.join(dir, 'trace.jsonl');
    const args = [CLI, 'emulate', '-f', '--device', PROFILE_OF[device.name]!, '--address', device.address, '--group', String(device.group), '--kernel', kernel, '--json', '-o', out, '--', path.join(CLIENT_DIR, client), device.address];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
    return { events: events(text), stdout, status, stderr };
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

/**
 * The emulated run against the golden, thread by thread: each lane's calls
 * (lanes.ts) compared with compareCalls. A golden of one thread gives
 * compareCalls' messages unchanged; otherwise each names its lane
 * (`thread 2: call 3 …`). `followed` false: the golden was recorded without
 * -f and holds only the parent's calls, so the emulated children's lanes
 * are left out (what they saw is still compared through the output).
 */
export function compareRun(golden: TraceEvent[], emulated: TraceEvent[], followed: boolean): string[] {
  // Lanes from every event (start records tell parent from child), then each
  // lane's calls; the emulator's helper processes (mount, …) call nothing.
  const callLanes = (all: TraceEvent[]): Lane[] => lanesOf(all).map((l) => ({ ...l, events: ioctls(l.events) })).filter((l) => l.events.length > 0);
  const g = callLanes(golden);
  const e = callLanes(emulated).filter((l) => followed || l.kind === 'main' || l.kind === 'thread');
  const gn = laneNames(g);
  const en = laneNames(e);
  const single = g.length === 1 && e.length === 1;
  const out: string[] = [];
  for (const name of new Set([...gn, ...en])) {
    const gl = g[gn.indexOf(name)];
    const el = e[en.indexOf(name)];
    if (!gl || !el) {
      out.push(`${name}: ${gl ? `golden only (${gl.events.length} calls)` : `emulated only (${el!.events.length} calls)`}`);
      continue;
    }
    const diffs = compareCalls(gl.events.map(toCall), el.events.map(toCall));
    out.push(...(single ? diffs : diffs.map((d) => `${name}: ${d}`)));
  }
  return out;
}
