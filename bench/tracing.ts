// What the tracing benchmarks (tracer, attach) need before they measure:
// the sandbox, the engine, the workload programs, and whether eBPF loads.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { nativeAvailable } from '../src/trace/native.js';
import { sandboxAvailable } from '../src/trace/sandbox.js';
import { repoRoot } from './figures.js';

const ROOT = repoRoot(import.meta.url);
export const WORKLOADS = path.join(ROOT, 'bench', 'workloads');
export const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

/** Why a tracing benchmark cannot run here (no sandbox, no engine), or null. */
export function tracingUnavailable(): string | null {
  const sb = sandboxAvailable();
  if (!sb.ok) return sb.reason;
  if (!nativeAvailable()) return 'native tracer not built: run `npm run build:native`';
  return null;
}

/** Builds bench/workloads (make is quiet when they are current). */
export function buildWorkloads(): void {
  const r = spawnSync('make', ['-s', '-C', WORKLOADS], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`building bench/workloads failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Whether the eBPF backend loads here (root or CAP_BPF, a kernel with BTF). */
export function bpfLoads(): boolean {
  return spawnSync(process.execPath, [CLI, '--backend', 'bpf', '--', 'true'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}
