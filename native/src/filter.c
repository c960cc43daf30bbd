/* The seccomp-BPF filter of a spawned command: hand ioctl(2) calls of the
 * listener's type byte to a seccomp listener (emulation, notify.c), trace
 * ioctl(2) calls whose request type byte (bits 8..15) matches, clone(2) calls carrying
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

/* With a listener, a thread waiting for its answer is not woken by a
 * signal once the answer is being worked out (WAIT_KILLABLE_RECV, Linux
 * 5.19): an emulated call is answered once, never restarted after the
 * emulator has acted on it. The flag is required, not hoped for: a kernel
 * without it (EINVAL) lacks none of what else the listener side uses
 * (ADDFD_FLAG_SEND 5.14, FLAG_CONTINUE 5.5), and gets the ptrace path. */
static long install(struct sock_fprog *prog, int with_listener)
{
	unsigned long flags = with_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
}

int filter_install(int ioctl_type, int notify_type, int *listener)
{
	/* --all-ioctls: mask and value 0 match every request */
	uint32_t mask = ioctl_type < 0 ? 0 : 0xff00;
	uint32_t type = ioctl_type < 0 ? 0 : ((uint32_t)ioctl_type & 0xff) << 8;
	/* No listener: a value the masked request can never equal. */
	uint32_t notify = notify_type < 0 ? 0x10000 : ((uint32_t)notify_type & 0xff) << 8;
	/* Jump offsets count from the next instruction; the numbers on the
	 * left are the instructions' indices. */
	struct sock_filter code[] = {
		/*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_AUDIT_ARCH, 0, 12), /* -> 14 */
		/*  2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/*  3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_IOCTL, 0, 6), /* -> 10 */
		/*  4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, VFT_ARG_LO_OFFSET(1)),
		/*  5 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00),
		/*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, notify, 9, 0), /* -> 16 */
		/*  7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, VFT_ARG_LO_OFFSET(1)),
		/*  8 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
		/*  9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, type, 5, 4), /* -> 15, 14 */
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_CLONE, 0, 2), /* -> 13 */
		/* 11 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, VFT_ARG_LO_OFFSET(VFT_CLONE_FLAGS_ARG)),
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 2, 1), /* -> 15, 14 */
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VFT_NR_CLONE3, 1, 0), /* -> 15, 14 */
		/* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
		/* 16 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	_Static_assert(sizeof(code) / sizeof(code[0]) == 17, "jump offsets assume 17 instructions");
	_Static_assert(CLONE_UNTRACED <= 0xffffffffu, "the filter tests the low word of clone's flags");
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	/* Privileged callers keep exec's privilege transitions (setuid helpers
	 * in the traced command work as usual); others need NO_NEW_PRIVS. */
	long rc = install(&prog, notify_type >= 0);
	if (rc < 0 && errno == EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			return -errno;
		rc = install(&prog, notify_type >= 0);
	}
	if (rc < 0)
		return -errno;
	if (listener)
		*listener = notify_type >= 0 ? (int)rc : -1;
	return 0;
}
