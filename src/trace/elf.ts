// Reads what the release build and its tests check in a native binary: the
// ELF header (class, byte order, type, machine), whether it is dynamically
// linked, and the symbol versions it needs from shared libraries (GLIBC_2.34
// decides the oldest glibc a prebuilt engine loads on).

import { readFileSync } from 'node:fs';

/** e_machine values of the architectures vfiotrace builds for. */
export const EM = { X86_64: 62, AARCH64: 183, PPC64: 21 } as const;

/** e_type values. */
export const ET = { EXEC: 2, DYN: 3 } as const;

export interface ElfInfo {
  bits: 32 | 64;
  byteOrder: 'le' | 'be';
  type: number;
  machine: number;
  /** Has a PT_INTERP segment: dynamically linked. */
  interp: boolean;
  /** Symbol versions needed, per library (.gnu.version_r): e.g. libc.so.6 → GLIBC_2.34. */
  needs: { file: string; version: string }[];
}

const PT_INTERP = 3;
const SHT_GNU_VERNEED = 0x6ffffffe;

/** Parses a 64-bit ELF file; throws one line naming the file when it is not one. */
export function readElf(file: string): ElfInfo {
  const b = readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`);
  if (b[4] !== 2) throw new Error(`${file}: not a 64-bit ELF file`);
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  try {
    let interp = false;
    const phoff = u64(32);
    for (let k = 0; k < u16(56); k++) if (u32(phoff + k * u16(54)) === PT_INTERP) interp = true;
    return { bits: 64, byteOrder: le ? 'le' : 'be', type: u16(16), machine: u16(18), interp, needs: versionNeeds(b, u16, u32, u64) };
  } catch (e) {
    if (e instanceof RangeError) throw new Error(`${file}: truncated ELF file`);
    throw e;
  }
}

function versionNeeds(b: Buffer, u16: (o: number) => number, u32: (o: number) => number, u64: (o: number) => number): ElfInfo['needs'] {
  const shoff = u64(40);
  const shentsize = u16(58);
  const section = (k: number) => shoff + k * shentsize;
  const out: ElfInfo['needs'] = [];
  for (let k = 0; shoff !== 0 && k < u16(60); k++) {
    if (u32(section(k) + 4) !== SHT_GNU_VERNEED) continue;
    const strtab = u64(section(u32(section(k) + 40)) + 24);
    const str = (o: number) => {
      const end = b.indexOf(0, strtab + o);
      if (end < 0) throw new RangeError('unterminated string');
      return b.toString('latin1', strtab + o, end);
    };
    let need = u64(section(k) + 24);
    for (let n = u32(section(k) + 44); n > 0; n--) {
      const lib = str(u32(need + 4));
      let aux = need + u32(need + 8);
      for (let a = u16(need + 2); a > 0; a--) {
        out.push({ file: lib, version: str(u32(aux + 8)) });
        aux += u32(aux + 12);
      }
      need += u32(need + 12);
    }
  }
  return out;
}

/** The newest GLIBC_x.y an ELF file needs ("2.34"), or null when it needs none. */
export function glibcNeeded(elf: ElfInfo): string | null {
  let best: number[] | null = null;
  for (const { version } of elf.needs) {
    const m = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(version);
    if (!m) continue;
    const v = (m[1] as string).split('.').map(Number);
    if (best === null || compareVersions(v, best) > 0) best = v;
  }
  return best === null ? null : best.join('.');
}

/** Compares dotted version numbers given as arrays: <0, 0, >0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
