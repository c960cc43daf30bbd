// Shared helpers for tests that run programs under the native tracer.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureRule } from '../../src/trace/captureRule.js';
import type { RecordingHeader, TraceRecord } from '../../src/trace/events.js';
import { nativeAvailable, startTrace, type TraceOptions, type TraceResult, type TraceSession } from '../../src/trace/native.js';
import { readStream } from '../../src/trace/recordingStream.js';
import { sandboxArgv, sandboxAvailable } from '../../src/trace/sandbox.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a built C fixture (test/fixtures/build/NAME). */
export function fixture(name: string): string {
  return path.join(ROOT, 'test', 'fixtures', 'build', name);
}

/**
 * Why tracer tests cannot run here, or null when they can: the engine and
 * fixtures must be built and ptrace must be permitted.
 */
export function tracerUnavailable(): string | null {
  if (!nativeAvailable()) return 'native/build/libvftrace.so is not built (npm run build:native)';
  if (!existsSync(fixture('burst'))) return 'test fixtures are not built (make -C test/fixtures)';
  try {
    const s = startTrace({ command: ['true'], rules: [] });
    s.stream.resume();
    return null;
  } catch (e) {
    return `cannot trace processes here (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Why the /dev sandbox cannot run here, or null. */
export function sandboxUnavailable(): string | null {
  const s = sandboxAvailable();
  return s.ok ? null : s.reason;
}

export interface Collected {
  header: RecordingHeader;
  records: TraceRecord[];
  result: TraceResult;
}

/** Reads a whole session's stream. */
export async function collect(session: TraceSession): Promise<Collected> {
  const rec = await readStream(session.stream);
  const records: TraceRecord[] = [];
  for await (const batch of rec.batches()) for (const r of batch) records.push(r);
  return { header: rec.header, records, result: await session.done };
}

/** Runs a command under the tracer and collects everything. */
export async function traceRun(command: string[], options: Partial<TraceOptions> = {}): Promise<Collected> {
  const rules: CaptureRule[] = options.rules ?? [];
  return collect(startTrace({ ...options, command, rules }));
}

/** The command wrapped to run in the /dev sandbox with stdout sent to a file. */
export function inSandbox(command: string[], stdoutFile?: string): string[] {
  const inner = stdoutFile ? ['sh', '-c', 'exec "$@" > "$0"', stdoutFile, ...command] : command;
  return sandboxArgv(inner);
}

/** Wraps a command so its stdout goes to a file (the same pid throughout). */
export function toFile(command: string[], stdoutFile: string): string[] {
  return ['sh', '-c', 'exec "$@" > "$0"', stdoutFile, ...command];
}

export function haveStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

export const ioctls = (rs: TraceRecord[]) => rs.filter((r): r is Extract<TraceRecord, { type: 'ioctl' }> => r.type === 'ioctl');
export const processes = (rs: TraceRecord[]) =>
  rs.filter((r): r is Extract<TraceRecord, { type: 'process' }> => r.type === 'process');

/** Waits until FILE contains TEXT (the file may not exist yet); throws after timeoutMs. */
export async function waitForText(file: string, text: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let content = '';
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      // not created yet
    }
    if (content.includes(text)) return content;
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}" in ${file}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether `cmd` is an executable on PATH (to skip tests whose tool is not installed). */
export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0" >/dev/null', cmd], { stdio: 'ignore' }).status === 0;
}

/** Compiles `names` (default: every .c file) of `src` into `build`, warnings as errors. Returns the names. */
export function buildFixtures(src: string, build: string, names?: readonly string[]): string[] {
  mkdirSync(build, { recursive: true });
  const all = names ?? readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
  for (const n of all) execFileSync('gcc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', path.join(build, n), path.join(src, `${n}.c`)]);
  return [...all];
}

/**
 * A line with the addresses that differ between runs masked: mmap'd memory
 * (0x7 and eleven more hex digits on x86-64, wherever ASLR puts it).
 */
export function maskAddresses(line: string): string {
  return line.replace(/0x7[0-9a-f]{11}(?![0-9a-f])/g, '0xADDR');
}
