// Shared by the POWER tests: building the recorder (host and cross), finding
// the cross tools, and reading an ELF header.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../helpers/trace.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NATIVE = path.join(ROOT, 'native');

export const CROSS_ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64'] as const;
export type CrossArch = (typeof CROSS_ARCHES)[number];

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

export interface ElfInfo {
  bits: 32 | 64;
  byteOrder: 'le' | 'be';
  type: number;
  machine: number;
  /** Has a PT_INTERP segment: dynamically linked. */
  interp: boolean;
}

export const EM = { X86_64: 62, AARCH64: 183, PPC64: 21 } as const;

export function readElf(file: string): ElfInfo {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`);
  const bits = b[4] === 2 ? 64 : 32;
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  if (bits !== 64) throw new Error(`${file}: not a 64-bit ELF`);
  const phoff = u64(32);
  const phentsize = u16(54);
  const phnum = u16(56);
  let interp = false;
  for (let k = 0; k < phnum; k++) if (u32(phoff + k * phentsize) === 3 /* PT_INTERP */) interp = true;
  return { bits, byteOrder: le ? 'le' : 'be', type: u16(16), machine: u16(18), interp };
}
