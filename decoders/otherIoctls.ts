// Names for common ioctls that are not VFIO's, for --all-ioctls (a traced
// program's terminal and file-descriptor calls), as strace names them. Only
// the request number is known: no layouts, no decoding. Numbers per
// architecture: the terminal ioctls are plain numbers (0x54xx) on x86, arm64
// and riscv, and _IOR/_IOW/_IO with a size on powerpc.

/** Name, number on x86/arm64/riscv, number on powerpc. */
const NAMED: ReadonlyArray<readonly [string, number, number]> = [
  ['TCGETS', 0x5401, 0x402c7413],
  ['TCSETS', 0x5402, 0x802c7414],
  ['TCSETSW', 0x5403, 0x802c7415],
  ['TCSETSF', 0x5404, 0x802c7416],
  ['TCGETA', 0x5405, 0x40147417],
  ['TCSETA', 0x5406, 0x80147418],
  ['TCSETAW', 0x5407, 0x80147419],
  ['TCSETAF', 0x5408, 0x8014741c],
  ['TCSBRK', 0x5409, 0x2000741d],
  ['TCXONC', 0x540a, 0x2000741e],
  ['TCFLSH', 0x540b, 0x2000741f],
  ['TIOCEXCL', 0x540c, 0x540c],
  ['TIOCNXCL', 0x540d, 0x540d],
  ['TIOCSCTTY', 0x540e, 0x540e],
  ['TIOCGPGRP', 0x540f, 0x40047477],
  ['TIOCSPGRP', 0x5410, 0x80047476],
  ['TIOCOUTQ', 0x5411, 0x40047473],
  ['TIOCSTI', 0x5412, 0x5412],
  ['TIOCGWINSZ', 0x5413, 0x40087468],
  ['TIOCSWINSZ', 0x5414, 0x80087467],
  ['TIOCMGET', 0x5415, 0x5415],
  ['FIONREAD', 0x541b, 0x4004667f],
  ['TIOCLINUX', 0x541c, 0x541c],
  ['FIONBIO', 0x5421, 0x8004667e],
  ['TIOCNOTTY', 0x5422, 0x5422],
  ['TIOCGSID', 0x5429, 0x5429],
  ['FIONCLEX', 0x5450, 0x20006602],
  ['FIOCLEX', 0x5451, 0x20006601],
  ['FIOASYNC', 0x5452, 0x8004667d],
  ['TIOCGPTN', 0x80045430, 0x40045430],
  ['TIOCSPTLCK', 0x40045431, 0x80045431],
  ['TIOCGPTPEER', 0x5441, 0x20005441],
];

const GENERIC = new Map(NAMED.map(([name, generic]) => [generic, name]));
const POWERPC = new Map(NAMED.map(([name, , powerpc]) => [powerpc, name]));

/** The name of a common non-VFIO ioctl on `arch`, or null. */
export function otherIoctlName(arch: string, request: number | bigint): string | null {
  const cmd = typeof request === 'number' ? request >>> 0 : Number(BigInt.asUintN(32, request));
  const table = arch.startsWith('ppc') || arch.startsWith('powerpc') ? POWERPC : GENERIC;
  return table.get(cmd) ?? null;
}
