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

/* clone and clone3 (src/untraced.c). clone3 has the same number on every
 * ABI above; C libraries older than the call lack the name. clone's flags
 * are its first argument on each of them (s390 would have them second). */
#define VFT_NR_CLONE __NR_clone
#ifdef __NR_clone3
#define VFT_NR_CLONE3 __NR_clone3
#else
#define VFT_NR_CLONE3 435
#endif
#define VFT_CLONE_FLAGS_ARG 0

/* The registers PTRACE_GETREGSET(NT_PRSTATUS) reads, and the one holding
 * the first syscall argument. VFT_ARG0_KEPT: the syscall ABI hands that
 * register back to the caller unchanged (x86_64's rdi); elsewhere it also
 * carries the return value. powerpc's user header has no regs typedef of its
 * own: its NT_PRSTATUS layout is struct pt_regs. */
#if defined(__x86_64__)
#include <sys/user.h>
typedef struct user_regs_struct vft_regs;
#define VFT_REG_ARG0(r) ((r).rdi)
#define VFT_ARG0_KEPT 1
#elif defined(__aarch64__)
#include <sys/user.h>
typedef struct user_regs_struct vft_regs;
#define VFT_REG_ARG0(r) ((r).regs[0])
#define VFT_ARG0_KEPT 0
#elif defined(__powerpc64__)
#include <asm/ptrace.h>
typedef struct pt_regs vft_regs;
#define VFT_REG_ARG0(r) ((r).gpr[3])
#define VFT_ARG0_KEPT 0
#elif defined(__riscv)
#include <sys/user.h>
typedef struct user_regs_struct vft_regs;
#define VFT_REG_ARG0(r) ((r).a0)
#define VFT_ARG0_KEPT 0
#endif

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
