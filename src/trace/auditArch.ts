// Linux AUDIT_ARCH_* values: the ABI number a recording header carries (and
// seccomp_data.arch), by architecture name, with the byte order and word
// size that number stands for. The one table: the header parser names a
// number with it, the writer and the capture rules number a name.

interface Abi {
  auditArch: number;
  byteOrder: 'le' | 'be';
  wordSize: 4 | 8;
}

const ABIS: Readonly<Record<string, Abi>> = {
  x86_64: { auditArch: 0xc000003e, byteOrder: 'le', wordSize: 8 },
  aarch64: { auditArch: 0xc00000b7, byteOrder: 'le', wordSize: 8 },
  ppc64le: { auditArch: 0xc0000015, byteOrder: 'le', wordSize: 8 },
  ppc64: { auditArch: 0x80000015, byteOrder: 'be', wordSize: 8 },
  riscv64: { auditArch: 0xc00000f3, byteOrder: 'le', wordSize: 8 },
  i386: { auditArch: 0x40000003, byteOrder: 'le', wordSize: 4 },
  arm: { auditArch: 0x40000028, byteOrder: 'le', wordSize: 4 },
  s390x: { auditArch: 0x80000016, byteOrder: 'be', wordSize: 8 },
};

export const AUDIT_ARCH: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(ABIS).map(([name, a]) => [name, a.auditArch]));

/** Byte order and word size of a named ABI; undefined for a name not in the table. */
export function abiOf(name: string): Abi | undefined {
  return ABIS[name];
}

const NAMES = new Map<number, string>(Object.entries(ABIS).map(([name, a]) => [a.auditArch, name]));

/** The architecture name of an AUDIT_ARCH number ("audit-arch-0x…" for one not in the table). */
export function archName(auditArch: number): string {
  return NAMES.get(auditArch >>> 0) ?? `audit-arch-0x${(auditArch >>> 0).toString(16)}`;
}
