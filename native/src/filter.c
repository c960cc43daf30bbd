/* The seccomp-BPF filter of a spawned command: trace ioctl(2) calls whose
 * request type byte (bits 8..15) matches, clone(2) calls carrying
 * CLONE_UNTRACED and every clone3(2) (its flags are in memory, out of the
 * filter's reach; src/untraced.c clears the flag so the child is traced and
 * its own filtered calls do not fail with ENOSYS); allow everything else,
 * including every syscall of a foreign ABI (e.g. i386 on x86_64). ioctl is
 * tested first: it is the hot path. */
#include "engine.h"
#include "arch.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int filter_install(int ioctl_type)
{
	/* --all-ioctls: mask and value 0 match every request */
	uint32_t mask = ioctl_type < 0 ? 0 : 0xff00;
	uint32_t type = ioctl_type < 0 ? 0 : ((uint32_t)ioctl_type & 0xff) << 8;
	/* Jump offsets count from the next instruction; the numbers on the
	 * left are the instructions' indices. */
	struct sock_filter code[] = {
		/*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_AUDIT_ARCH, 0, 9), /* -> 11 */
		/*  2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/*  3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_IOCTL, 0, 3), /* -> 7 */
		/*  4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, VFT_ARG_LO_OFFSET(1)),
		/*  5 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
		/*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, type, 5, 4), /* -> 12, 11 */
		/*  7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_CLONE, 0, 2), /* -> 10 */
		/*  8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, VFT_ARG_LO_OFFSET(VFT_CLONE_FLAGS_ARG)),
		/*  9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 2, 1), /* -> 12, 11 */
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_CLONE3, 1, 0), /* -> 12, 11 */
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	_Static_assert(sizeof(code) / sizeof(code[0]) == 13, "jump offsets assume 13 instructions");
	_Static_assert(CLONE_UNTRACED <= 0xffffffffu, "the filter tests the low word of clone's flags");
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	/* Privileged callers keep exec's privilege transitions (setuid helpers
	 * in the traced command work as usual); others need NO_NEW_PRIVS. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	if (errno != EACCES)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return -errno;
	return 0;
}
