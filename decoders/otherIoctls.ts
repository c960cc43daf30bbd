// Names for common ioctls that are not VFIO's, for --all-ioctls (a traced
// program's terminal and file-descriptor calls), as strace names them. Only
// the request number is known: no layouts, no decoding. Numbers per
// architecture: the terminal ioctls are plain numbers (0x54xx) on x86, arm64
// and riscv, and _IOR/_IOW/_IO with a size on powerpc.

const GENERIC: Readonly<Record<number, string>> = {
  0x5401: 'TCGETS', 0x5402: 'TCSETS', 0x5403: 'TCSETSW', 0x5404: 'TCSETSF',
  0x5405: 'TCGETA', 0x5406: 'TCSETA', 0x5407: 'TCSETAW', 0x5408: 'TCSETAF',
  0x5409: 'TCSBRK', 0x540a: 'TCXONC', 0x540b: 'TCFLSH', 0x540c: 'TIOCEXCL', 0x540d: 'TIOCNXCL',
  0x540e: 'TIOCSCTTY', 0x540f: 'TIOCGPGRP', 0x5410: 'TIOCSPGRP', 0x5411: 'TIOCOUTQ', 0x5412: 'TIOCSTI',
  0x5413: 'TIOCGWINSZ', 0x5414: 'TIOCSWINSZ', 0x5415: 'TIOCMGET', 0x541b: 'FIONREAD', 0x541c: 'TIOCLINUX',
  0x5421: 'FIONBIO', 0x5422: 'TIOCNOTTY', 0x5429: 'TIOCGSID', 0x5450: 'FIONCLEX', 0x5451: 'FIOCLEX', 0x5452: 'FIOASYNC',
  0x80045430: 'TIOCGPTN', 0x40045431: 'TIOCSPTLCK', 0x5441: 'TIOCGPTPEER',
};

const POWERPC: Readonly<Record<number, string>> = {
  0x402c7413: 'TCGETS', 0x802c7414: 'TCSETS', 0x802c7415: 'TCSETSW', 0x802c7416: 'TCSETSF',
  0x40147417: 'TCGETA', 0x80147418: 'TCSETA', 0x80147419: 'TCSETAW', 0x8014741c: 'TCSETAF',
  0x2000741d: 'TCSBRK', 0x2000741e: 'TCXONC', 0x2000741f: 'TCFLSH', 0x540c: 'TIOCEXCL', 0x540d: 'TIOCNXCL',
  0x540e: 'TIOCSCTTY', 0x40047477: 'TIOCGPGRP', 0x80047476: 'TIOCSPGRP', 0x40047473: 'TIOCOUTQ', 0x5412: 'TIOCSTI',
  0x40087468: 'TIOCGWINSZ', 0x80087467: 'TIOCSWINSZ', 0x5415: 'TIOCMGET', 0x4004667f: 'FIONREAD', 0x541c: 'TIOCLINUX',
  0x8004667e: 'FIONBIO', 0x5422: 'TIOCNOTTY', 0x5429: 'TIOCGSID', 0x20006602: 'FIONCLEX', 0x20006601: 'FIOCLEX', 0x8004667d: 'FIOASYNC',
  0x40045430: 'TIOCGPTN', 0x80045431: 'TIOCSPTLCK', 0x20005441: 'TIOCGPTPEER',
};

/** The name of a common non-VFIO ioctl on `arch`, or null. */
export function otherIoctlName(arch: string, request: number | bigint): string | null {
  const cmd = typeof request === 'number' ? request >>> 0 : Number(BigInt.asUintN(32, request));
  const table = arch.startsWith('ppc') || arch.startsWith('powerpc') ? POWERPC : GENERIC;
  return table[cmd] ?? null;
}
