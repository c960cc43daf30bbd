// Linux AUDIT_ARCH_* values: the ABI number a recording header carries (and
// seccomp_data.arch), by architecture name. The one table: the header parser
// names a number with it, the writer and the capture rules number a name.

export const AUDIT_ARCH: Readonly<Record<string, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
  ppc64le: 0xc0000015,
  ppc64: 0x80000015,
  riscv64: 0xc00000f3,
  i386: 0x40000003,
  arm: 0x40000028,
  s390x: 0x80000016,
};

const NAMES = new Map<number, string>(Object.entries(AUDIT_ARCH).map(([name, n]) => [n, name]));

/** The architecture name of an AUDIT_ARCH number ("audit-arch-0x…" for one not in the table). */
export function archName(auditArch: number): string {
  return NAMES.get(auditArch >>> 0) ?? `audit-arch-0x${(auditArch >>> 0).toString(16)}`;
}
