// Shared by the POWER tests: building the recorder (host and cross), finding
// the cross tools, and reading an ELF header (src/trace/elf.ts).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrebuiltArch as CrossArch } from '../../src/trace/platform.js';
import { onPath } from '../helpers/trace.js';

export { EM, readElf, type ElfInfo } from '../../src/trace/elf.js';
/** The arches native/cross.mk builds: the ones a package ships. */
export { PREBUILT_ARCHES as CROSS_ARCHES, type PrebuiltArch as CrossArch } from '../../src/trace/platform.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NATIVE = path.join(ROOT, 'native');

/** Debian's cross compiler for each arch (native/cross.mk uses the same names). */
export const CROSS_CC: Record<CrossArch, string> = {
  x86_64: 'x86_64-linux-gnu-gcc',
  aarch64: 'aarch64-linux-gnu-gcc',
  ppc64le: 'powerpc64le-linux-gnu-gcc',
  ppc64: 'powerpc64-linux-gnu-gcc',
};

export const QEMU: Partial<Record<CrossArch, string>> = {
  ppc64le: 'qemu-ppc64le-static',
  ppc64: 'qemu-ppc64-static',
  aarch64: 'qemu-aarch64-static',
};

/** Why the cross build for arch cannot run here, or null. A static link also needs the libc6-dev-*-cross package. */
export function crossUnavailable(arch: CrossArch): string | null {
  return onPath(CROSS_CC[arch]) ? null : `${CROSS_CC[arch]} not installed (apt-get install gcc-${CROSS_CC[arch].replace(/-gcc$/, '')})`;
}

export function qemuUnavailable(arch: CrossArch): string | null {
  const q = QEMU[arch];
  if (!q) return `no qemu-user runner for ${arch}`;
  return onPath(q) ? null : `${q} not installed (apt-get install qemu-user-static)`;
}

export function crossDir(arch: CrossArch): string {
  return path.join(NATIVE, 'build', 'cross', arch);
}

/**
 * Runs make in native/; returns null or the error output. Test files run in
 * parallel and share build/, so makes take turns under a lock.
 */
export function make(target: string): string | null {
  try {
    mkdirSync(path.join(NATIVE, 'build'), { recursive: true });
    const lock = path.join(NATIVE, 'build', '.make.lock');
    execFileSync('flock', [lock, 'make', '-s', '-C', NATIVE, target], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    return null;
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer; message: string };
    return `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? err.message}`;
  }
}

export const RECORDER = path.join(NATIVE, 'build', 'vfiotrace-record');

let built: string | null | undefined;
/** Builds the host recorder once; returns why it is unavailable, or null. */
export function recorderUnavailable(): string | null {
  if (built === undefined) {
    const err = make('recorder');
    built = err === null && existsSync(RECORDER) ? null : `cannot build native/build/vfiotrace-record: ${err ?? 'missing'}`;
  }
  return built;
}
