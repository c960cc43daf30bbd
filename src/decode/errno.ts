// errno names by number. Linux numbers errnos per architecture family: x86,
// arm64, riscv and most others use the asm-generic table; powerpc is the
// same except that EDEADLOCK is its own value (58) instead of an alias of
// EDEADLK. (alpha, mips, parisc and sparc differ widely and are not decoded.)

export type ErrnoFlavor = 'generic' | 'powerpc';

// asm-generic order, value = index + 1; '' marks the unused 41 and 58.
const GENERIC =
  'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP  ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT  EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON'.split(' ');

// Values a ptrace exit stop can show that never reach user space as errno.
const KERNEL_INTERNAL: ReadonlyMap<number, string> = new Map([
  [512, 'ERESTARTSYS'],
  [513, 'ERESTARTNOINTR'],
  [514, 'ERESTARTNOHAND'],
  [515, 'ENOIOCTLCMD'],
  [516, 'ERESTART_RESTARTBLOCK'],
]);

export function errnoFlavor(arch: string): ErrnoFlavor {
  return arch.startsWith('ppc') || arch.startsWith('powerpc') ? 'powerpc' : 'generic';
}

/** Name of a positive errno value, or null if unknown. */
export function errnoName(n: number, flavor: ErrnoFlavor): string | null {
  if (flavor === 'powerpc' && n === 58) return 'EDEADLOCK';
  const s = GENERIC[n - 1];
  if (s) return s;
  return KERNEL_INTERNAL.get(n) ?? null;
}

/** Number of an errno name for a flavor, or null. */
export function errnoNumber(name: string, flavor: ErrnoFlavor): number | null {
  if (flavor === 'powerpc' && name === 'EDEADLOCK') return 58;
  if (name === 'EDEADLOCK') return 35;
  const k = GENERIC.indexOf(name);
  if (k >= 0) return k + 1;
  for (const [v, s] of KERNEL_INTERNAL) if (s === name) return v;
  return null;
}

/** Every errno name known for a flavor with its value (for header checks). */
export function allErrnos(flavor: ErrnoFlavor): [string, number][] {
  const out: [string, number][] = [];
  GENERIC.forEach((s, k) => {
    if (s) out.push([s, k + 1]);
  });
  out.push(['EDEADLOCK', flavor === 'powerpc' ? 58 : 35]);
  return out;
}
