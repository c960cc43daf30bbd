/* Everything that differs between the architectures the engine builds for.
 * The rest of native/ uses only these names. */
#ifndef VFT_ARCH_H
#define VFT_ARCH_H

#include <linux/audit.h>
#include <stddef.h>
#include <sys/syscall.h>

/* The ABI this engine is built for, as seccomp_data.arch and
 * PTRACE_GET_SYSCALL_INFO name it; also the recording header's audit_arch.
 * powerpc has one AUDIT_ARCH per byte order (the LE one adds
 * __AUDIT_ARCH_LE), so the compiler's byte order picks it. Tasks of another
 * ABI on the same kernel (x32/i386 on x86_64, 32-bit ppc) carry a different
 * value and are let through untraced. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define VFT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__ILP32__)
#define VFT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VFT_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__powerpc64__)
#define VFT_AUDIT_ARCH AUDIT_ARCH_PPC64
#elif defined(__riscv) && __riscv_xlen == 64
#define VFT_AUDIT_ARCH AUDIT_ARCH_RISCV64
#else
#error "vftrace: unsupported architecture (add it to native/src/arch.h)"
#endif

/* ioctl's syscall number in the native ABI. */
#define VFT_NR_IOCTL __NR_ioctl

/* sizeof(long) of the traced (native) ABI: the header's word_size. */
#define VFT_WORD_SIZE ((unsigned)sizeof(long))

/* seccomp_data.args[] are u64 in host byte order, but classic BPF loads
 * 32-bit words: the low half of an argument is at +0 on little-endian and
 * +4 on big-endian. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VFT_ARG_LO_OFFSET(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#else
#define VFT_ARG_LO_OFFSET(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#endif

#endif
