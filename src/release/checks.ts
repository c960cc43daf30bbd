// What the release build (scripts/release.mjs) checks before and after
// packing: each prebuilt binary is what its directory says, and the package
// holds what an install needs and nothing from tests or build trees.

import path from 'node:path';
import { compareVersions, ET, glibcNeeded, readElf } from '../trace/elf.js';
import { PREBUILT_ARCHES, PREBUILT_ELF, PREBUILT_GLIBC, prebuiltPath, type NativeKind, type PrebuiltArch } from '../trace/platform.js';

/** Problems with one prebuilt binary (empty: it is what native/build/cross/ARCH/ promises). */
export function binaryProblems(root: string, arch: PrebuiltArch, kind: NativeKind): string[] {
  const rel = prebuiltPath(kind, arch);
  let elf;
  try {
    elf = readElf(path.join(root, rel));
  } catch (e) {
    return [(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${rel}: missing` : (e as Error).message.replace(root + path.sep, '')];
  }
  const want = PREBUILT_ELF[arch];
  const out: string[] = [];
  if (elf.machine !== want.machine) out.push(`${rel}: ELF machine ${elf.machine}, not ${want.machine} (${arch})`);
  if (elf.byteOrder !== want.byteOrder) out.push(`${rel}: ${elf.byteOrder === 'le' ? 'little' : 'big'}-endian, not ${arch}'s byte order`);
  if (kind === 'engine') {
    if (elf.type !== ET.DYN) out.push(`${rel}: ELF type ${elf.type}, not a shared object`);
    const glibc = glibcNeeded(elf);
    const v = (s: string) => s.split('.').map(Number);
    if (glibc !== null && compareVersions(v(glibc), v(PREBUILT_GLIBC)) > 0) {
      out.push(`${rel}: needs glibc ${glibc}, newer than the ${PREBUILT_GLIBC} the package promises (docs/install.md)`);
    }
  } else {
    if (elf.type !== ET.EXEC) out.push(`${rel}: ELF type ${elf.type}, not an executable`);
    if (elf.interp) out.push(`${rel}: dynamically linked; the recorder must be static to run on any host`);
  }
  return out;
}

/** Every prebuilt binary of every arch. */
export function allBinaryProblems(root: string): string[] {
  return PREBUILT_ARCHES.flatMap((a) => [...binaryProblems(root, a, 'engine'), ...binaryProblems(root, a, 'recorder')]);
}

/** Files an installed package cannot work without. */
export function requiredFiles(): string[] {
  return [
    'package.json',
    'README.md',
    'bin/vfiotrace.js',
    'dist/src/cli.js',
    'dist/man/vfiotrace.1',
    'docs/install.md',
    ...PREBUILT_ARCHES.flatMap((a) => [prebuiltPath('engine', a), prebuiltPath('recorder', a)]),
  ];
}

/** Paths that mean a test, a source or a build tree leaked into the package. */
const FORBIDDEN: [RegExp, string][] = [
  [/^test\//, 'a test file'],
  [/^dist\/(test|bench)\//, 'compiled tests or benchmarks'],
  [/^(src|decoders|scripts|bench)\//, 'a source file (the package ships dist/)'],
  [/^native\/(?!build\/cross\/[^/]+\/(libvftrace\.so|vfiotrace-record)$)/, 'a native source or build-tree file'],
  [/(^|\/)node_modules\//, 'a dependency'],
  [/\.(ts|map|c|h|o|vft)$/, 'a source, map, object or recording file'],
];

export interface PackLimits {
  /** Compressed tarball, bytes. */
  packed: number;
  /** Sum of the files, bytes. */
  unpacked: number;
}

/** The release's size budget: today's package (docs/install.md) with room to grow, not to double. */
export const PACK_LIMITS: PackLimits = { packed: 3_000_000, unpacked: 8_000_000 };

/** Problems with a packed file list (npm pack --json's files, size and unpackedSize). */
export function contentProblems(files: readonly string[], size: { packed: number; unpacked: number }, limits: PackLimits = PACK_LIMITS): string[] {
  const have = new Set(files);
  const out = requiredFiles().filter((f) => !have.has(f)).map((f) => `${f}: missing from the package`);
  for (const f of files) {
    const hit = FORBIDDEN.find(([re]) => re.test(f));
    if (hit) out.push(`${f}: ${hit[1]} in the package`);
  }
  if (size.packed > limits.packed) out.push(`package is ${size.packed} bytes packed, over the ${limits.packed} budget`);
  if (size.unpacked > limits.unpacked) out.push(`package is ${size.unpacked} bytes unpacked, over the ${limits.unpacked} budget`);
  return out;
}
