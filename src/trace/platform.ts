// Which native files serve this machine: the tracer engine Node loads
// (libvftrace.so) and the static recorder (vfiotrace-record).
//
// Order (docs/install.md): a clone's own build (native/build/, what
// `npm install` or `make -C native` made on this machine) wins; otherwise the
// prebuilt file for this machine's architecture (native/build/cross/ARCH/,
// what `make -C native cross` makes and the npm package ships).

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EM } from './elf.js';

/** The architectures a package ships prebuilt files for (native/cross.mk's CROSS_ARCHES). */
export const PREBUILT_ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64'] as const;
export type PrebuiltArch = (typeof PREBUILT_ARCHES)[number];

/** What a binary in native/build/cross/ARCH/ must be. */
export const PREBUILT_ELF: Record<PrebuiltArch, { machine: number; byteOrder: 'le' | 'be' }> = {
  x86_64: { machine: EM.X86_64, byteOrder: 'le' },
  aarch64: { machine: EM.AARCH64, byteOrder: 'le' },
  ppc64le: { machine: EM.PPC64, byteOrder: 'le' },
  ppc64: { machine: EM.PPC64, byteOrder: 'be' },
};

/** The oldest glibc a prebuilt engine may require (the release build checks it). */
export const PREBUILT_GLIBC = '2.34';

export interface Host {
  platform: string;
  /** Node's name (process.arch): x64, arm64, ppc64, … */
  arch: string;
  endianness: 'LE' | 'BE';
}

export function thisHost(): Host {
  return { platform: process.platform, arch: process.arch, endianness: os.endianness() };
}

/** The host's architecture in the recording's naming (uname -m's). */
export function hostArch(h: Host = thisHost()): string {
  switch (h.arch) {
    case 'x64': return 'x86_64';
    case 'arm64': return 'aarch64';
    case 'ppc64': return h.endianness === 'LE' ? 'ppc64le' : 'ppc64';
    case 'ia32': return 'i386';
    default: return h.arch;
  }
}

/** The prebuilt architecture that runs here, or null (not Linux, or an arch without one). */
export function prebuiltArch(h: Host = thisHost()): PrebuiltArch | null {
  if (h.platform !== 'linux') return null;
  const a = hostArch(h);
  return (PREBUILT_ARCHES as readonly string[]).includes(a) ? (a as PrebuiltArch) : null;
}

export function isPrebuiltArch(a: string): a is PrebuiltArch {
  return (PREBUILT_ARCHES as readonly string[]).includes(a);
}

export type NativeKind = 'engine' | 'recorder';

const FILE_NAME: Record<NativeKind, string> = { engine: 'libvftrace.so', recorder: 'vfiotrace-record' };

/** Paths relative to the package root. */
export function cloneBuildPath(kind: NativeKind): string {
  return path.join('native', 'build', FILE_NAME[kind]);
}

export function prebuiltPath(kind: NativeKind, arch: PrebuiltArch): string {
  return path.join('native', 'build', 'cross', arch, FILE_NAME[kind]);
}

export interface NativeFile {
  /** Absolute path. */
  path: string;
  /** Relative to the package root, for messages. */
  relative: string;
  /** The prebuilt arch it came from, or null for the clone's own build. */
  prebuilt: PrebuiltArch | null;
}

export type Found = { file: NativeFile } | { error: string };

function describeHost(h: Host): string {
  return h.arch === 'ppc64' ? `${h.platform} ${hostArch(h)}` : `${h.platform} ${h.arch}`;
}

/**
 * The engine (or host recorder) for this machine. `arch` asks for another
 * architecture's recorder instead (a clone's own build serves only its host).
 */
export function findNative(
  root: string,
  kind: NativeKind,
  opts: { host?: Host; arch?: PrebuiltArch; exists?: (p: string) => boolean } = {},
): Found {
  const host = opts.host ?? thisHost();
  const exists = opts.exists ?? existsSync;
  const native = prebuiltArch(host);
  const arch = opts.arch ?? native;
  const candidates: { relative: string; prebuilt: PrebuiltArch | null }[] = [];
  // Linux only: a clone build made on another OS would be no engine at all.
  if (host.platform === 'linux' && (opts.arch === undefined || opts.arch === native)) {
    candidates.push({ relative: cloneBuildPath(kind), prebuilt: null });
  }
  if (arch !== null) candidates.push({ relative: prebuiltPath(kind, arch), prebuilt: arch });
  for (const c of candidates) {
    const abs = path.join(root, c.relative);
    if (exists(abs)) return { file: { path: abs, ...c } };
  }
  const what = kind === 'engine' ? 'tracer engine' : 'vfiotrace-record';
  if (arch === null) {
    return { error: `no prebuilt ${what} for ${describeHost(host)}: prebuilt ones are for Linux on ${PREBUILT_ARCHES.join(', ')}; elsewhere build one from a clone (docs/install.md)` };
  }
  const build = kind === 'engine' ? 'npm run build:native' : `make -C native ${candidates.length > 1 ? 'recorder' : `cross-${arch}`}`;
  return { error: `${what} not built (${candidates.map((c) => c.relative).join(' and ')} missing): in a clone, run \`${build}\`` };
}
