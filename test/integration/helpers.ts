// Shared by the CLI tests: privilege gates, fixture builds and in-process
// runs of the subcommands with their output captured.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, vi } from 'vitest';
import { nativeAvailable } from '../../src/trace/native.js';
import { sandboxAvailable } from '../../src/trace/sandbox.js';

export const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-test-'));

/** A list for the pids a test starts: whatever a failed test left running is killed after it. */
export function leftoverPids(): number[] {
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  return pids;
}

/** Why live tracing cannot be tested here, or null when it can. */
export function liveSkipReason(): string | null {
  if (process.platform !== 'linux') return 'live tracing needs Linux';
  if (!nativeAvailable()) return 'native tracer not built (npm run build:native)';
  const sb = sandboxAvailable();
  if (!sb.ok) return `needs a private mount namespace (root or user namespaces): ${sb.reason}`;
  const yama = (() => {
    try {
      return readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
    } catch {
      return '0';
    }
  })();
  if (yama === '3') return 'ptrace disabled (kernel.yama.ptrace_scope=3)';
  return null;
}

export function hasStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Compiles a C fixture from test/integration/fixtures into dir. */
export function buildFixture(name: string, dir: string): string {
  const src = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', `${name}.c`);
  const out = path.join(dir, name);
  execFileSync('cc', ['-O1', '-Wall', '-o', out, src, '-lpthread']);
  return out;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a subcommand module in-process with -o pointing at a file (so the
 * output is exactly what the command wrote) and stderr captured.
 */
export async function runCli(run: (argv: string[]) => Promise<number>, argv: string[], dir: string, name = 'out.txt'): Promise<CliRun> {
  const out = path.join(dir, name);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  let code: number;
  try {
    // Output options go before the positional part (`--` or a file name).
    const at = argv.indexOf('--');
    const args = at >= 0 ? [...argv.slice(0, at), '-o', out, ...argv.slice(at)] : ['-o', out, ...argv];
    code = await run(args);
  } finally {
    spy.mockRestore();
  }
  let stdout = '';
  try {
    stdout = readFileSync(out, 'utf8');
  } catch {
    stdout = '';
  }
  return { code, stdout, stderr };
}
