/* Runs the engine's real seccomp filter (native/src/filter.c, compiled for
 * the target ABI) through a small classic-BPF interpreter, on seccomp_data
 * laid out in the target's byte order. qemu-user cannot install seccomp
 * filters, so this is how the big-endian argument offset in arch.h gets
 * exercised on ppc64 without POWER hardware.
 *
 * Prints one line per case, "name verdict", and exits 0 if every verdict is
 * the expected one. The filter's syscall(SYS_seccomp) is intercepted below. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sock_filter prog[64];
static unsigned prog_len;

/* Stands in for syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog). */
static long capture_filter(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long op = va_arg(ap, long);
	(void)va_arg(ap, long);
	const struct sock_fprog *fp = va_arg(ap, const struct sock_fprog *);
	va_end(ap);
	if (nr != SYS_seccomp || op != SECCOMP_SET_MODE_FILTER || fp->len > 64) {
		errno = EINVAL;
		return -1;
	}
	memcpy(prog, fp->filter, fp->len * sizeof(prog[0]));
	prog_len = fp->len;
	return 0;
}

#define syscall capture_filter
#include "../../native/src/filter.c"
#undef syscall

/* The subset of classic BPF the filter uses; anything else fails loudly. */
static int run(const struct seccomp_data *d, uint32_t *ret)
{
	uint32_t a = 0;
	for (unsigned pc = 0; pc < prog_len; pc++) {
		const struct sock_filter *f = &prog[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k + 4 > sizeof(*d))
				return -1;
			memcpy(&a, (const uint8_t *)d + f->k, 4); /* seccomp loads are host order */
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & f->k) != 0 ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			*ret = f->k;
			return 0;
		default:
			return -1;
		}
	}
	return -1;
}

static int failures;

/* notify: the listener's type byte (emulation), -1 none */
static void check_args(const char *name, int type, int notify, uint32_t arch, int nr, uint64_t arg0, uint64_t arg1, uint32_t want)
{
	int listener;
	if (filter_install(type, notify, &listener) != 0) {
		printf("%s install-failed\n", name);
		failures++;
		return;
	}
	struct seccomp_data d;
	memset(&d, 0, sizeof(d));
	d.arch = arch;
	d.nr = nr;
	d.args[0] = arg0;
	d.args[1] = arg1;
	uint32_t got = 0;
	if (run(&d, &got) != 0) {
		printf("%s bad-program\n", name);
		failures++;
		return;
	}
	const char *v = got == SECCOMP_RET_TRACE ? "TRACE" : got == SECCOMP_RET_ALLOW ? "ALLOW" : got == SECCOMP_RET_USER_NOTIF ? "NOTIFY" : "OTHER";
	printf("%s %s\n", name, v);
	if (got != want)
		failures++;
}

static void check(const char *name, int type, uint32_t arch, int nr, uint64_t request, uint32_t want)
{
	check_args(name, type, -1, arch, nr, 3, request, want);
}

static void check_notify(const char *name, int type, int notify, uint64_t request, uint32_t want)
{
	check_args(name, type, notify, VFT_AUDIT_ARCH, VFT_NR_IOCTL, 3, request, want);
}

/* clone's flags are args[0]; the kernel keeps only their low 32 bits */
static void check_clone(const char *name, int type, uint32_t arch, int nr, uint64_t flags, uint32_t want)
{
	check_args(name, type, -1, arch, nr, flags, 0, want);
}

int main(void)
{
	const uint32_t T = SECCOMP_RET_TRACE, A = SECCOMP_RET_ALLOW;
	const uint64_t vfio = 0x3b64 | (VFT_AUDIT_ARCH == AUDIT_ARCH_PPC64 || VFT_AUDIT_ARCH == AUDIT_ARCH_PPC64LE ? 0x20000000 : 0);
	check("vfio-request", 0x3b, VFT_AUDIT_ARCH, VFT_NR_IOCTL, vfio, T);
	check("other-type", 0x3b, VFT_AUDIT_ARCH, VFT_NR_IOCTL, 0x5401, A);
	/* the type byte is judged in the low 32 bits only, as the kernel takes
	 * cmd as unsigned int: junk above it is ignored ... */
	check("high-junk", 0x3b, VFT_AUDIT_ARCH, VFT_NR_IOCTL, 0xdeadbeef00000000ull | vfio, T);
	/* ... and ';' in the high word alone is not a VFIO request. Reading the
	 * wrong half of args[1] (the big-endian pitfall) flips these two. */
	check("type-in-high-word", 0x3b, VFT_AUDIT_ARCH, VFT_NR_IOCTL, 0x00003b0000000000ull, A);
	check("other-syscall", 0x3b, VFT_AUDIT_ARCH, VFT_NR_IOCTL + 1, vfio, A);
	check("foreign-abi", 0x3b, VFT_AUDIT_ARCH ^ 0x40000000u, VFT_NR_IOCTL, vfio, A);
	check("all-ioctls", -1, VFT_AUDIT_ARCH, VFT_NR_IOCTL, 0x5401, T);
	check("all-ioctls-other-syscall", -1, VFT_AUDIT_ARCH, VFT_NR_IOCTL + 1, 0x5401, A);
	/* clone with CLONE_UNTRACED stops (its flag gets cleared), clone
	 * without it does not; clone3's flags are in memory: it always stops.
	 * Reading the wrong half of args[0] flips the high-word case. */
	check_clone("clone-untraced", 0x3b, VFT_AUDIT_ARCH, VFT_NR_CLONE, CLONE_UNTRACED | SIGCHLD, T);
	check_clone("clone", 0x3b, VFT_AUDIT_ARCH, VFT_NR_CLONE, CLONE_VM | CLONE_VFORK | SIGCHLD, A);
	check_clone("clone-untraced-in-high-word", 0x3b, VFT_AUDIT_ARCH, VFT_NR_CLONE, (uint64_t)CLONE_UNTRACED << 32 | SIGCHLD, A);
	check_clone("clone3", 0x3b, VFT_AUDIT_ARCH, VFT_NR_CLONE3, 0x1000, T);
	check_clone("all-ioctls-clone-untraced", -1, VFT_AUDIT_ARCH, VFT_NR_CLONE, CLONE_UNTRACED | SIGCHLD, T);
	check_clone("foreign-abi-clone-untraced", 0x3b, VFT_AUDIT_ARCH ^ 0x40000000u, VFT_NR_CLONE, CLONE_UNTRACED | SIGCHLD, A);
	/* emulation: the listener's type goes to it; with --all-ioctls the
	 * rest is still traced; junk in the high word changes nothing */
	const uint32_t N = SECCOMP_RET_USER_NOTIF;
	check_notify("notify-vfio-request", 0x3b, 0x3b, vfio, N);
	check_notify("notify-high-junk", 0x3b, 0x3b, 0xdeadbeef00000000ull | vfio, N);
	check_notify("notify-other-type", 0x3b, 0x3b, 0x5401, A);
	check_notify("notify-all-ioctls-other-type", -1, 0x3b, 0x5401, T);
	check_notify("notify-type-in-high-word", 0x3b, 0x3b, 0x00003b0000000000ull, A);
	return failures ? 1 : 0;
}
