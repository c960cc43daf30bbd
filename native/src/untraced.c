/* clone(2) and clone3(2) with CLONE_UNTRACED. The flag keeps the kernel from
 * auto-attaching the child, yet a spawned command's child inherits the
 * seccomp filter, and a filtered call with no tracer fails with ENOSYS. So
 * at the call's entry the flag is cleared (clone: the flags register;
 * clone3: clone_args.flags in the caller's memory) and the child is traced
 * like any other; at the exit stop the caller's value is put back where the
 * caller can still see it. A child made without CLONE_VM starts with the
 * cleared copy (docs/usage.md, -f). */
#include "engine.h"
#include "arch.h"

#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

/* clone_args.flags is the struct's first member, a u64: one ptrace word. */
#define CLONE_ARGS_FLAGS_OFFSET 0
/* The kernel refuses a clone3 whose size is below its first version's (64
 * bytes): nothing to clear then. */
#define CLONE_ARGS_MIN_SIZE 64
_Static_assert(sizeof(long) == sizeof(uint64_t), "clone_args.flags is one ptrace word");
_Static_assert(VFT_CLONE_FLAGS_ARG == 0, "VFT_REG_ARG0 holds clone's flags");

static int regs_get(pid_t tid, vft_regs *r)
{
	struct iovec iov = {r, sizeof(*r)};
	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) == 0 ? 0 : -1;
}

static int regs_set(pid_t tid, vft_regs *r)
{
	struct iovec iov = {r, sizeof(*r)};
	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) == 0 ? 0 : -1;
}

static void clear_register(struct tracee *t, uint64_t flags)
{
	vft_regs r;
	if (!(flags & CLONE_UNTRACED) || regs_get(t->tid, &r) != 0)
		return;
	VFT_REG_ARG0(r) = flags & ~(uint64_t)CLONE_UNTRACED;
	if (regs_set(t->tid, &r) != 0 || !VFT_ARG0_KEPT)
		return; /* elsewhere the return value overwrites the register */
	t->clone_fix = CLONE_FIX_REGISTER;
	t->clone_flags = flags;
}

static void clear_memory(struct tracee *t, uint64_t addr, uint64_t size)
{
	if (size < CLONE_ARGS_MIN_SIZE)
		return;
	addr += CLONE_ARGS_FLAGS_OFFSET;
	errno = 0;
	long w = ptrace(PTRACE_PEEKDATA, t->tid, (void *)addr, 0);
	if (errno != 0 || !((uint64_t)w & CLONE_UNTRACED))
		return; /* a bad pointer: the kernel answers EFAULT itself */
	/* PTRACE_POKEDATA writes through read-only mappings too (a const
	 * clone_args), as the kernel's own copy will read them */
	uint64_t cleared = (uint64_t)w & ~(uint64_t)CLONE_UNTRACED;
	if (ptrace(PTRACE_POKEDATA, t->tid, (void *)addr, (void *)cleared) != 0)
		return;
	t->clone_fix = CLONE_FIX_MEMORY;
	t->clone_fix_addr = addr;
	t->clone_flags = (uint64_t)w;
}

void untraced_clear(struct tracee *t, uint64_t nr, const uint64_t *args)
{
	t->clone_fix = CLONE_FIX_NONE;
	if (nr == VFT_NR_CLONE)
		clear_register(t, args[VFT_CLONE_FLAGS_ARG]);
	else if (nr == VFT_NR_CLONE3)
		clear_memory(t, args[0], args[1]);
}

void untraced_restore(struct tracee *t)
{
	uint64_t cleared = t->clone_flags & ~(uint64_t)CLONE_UNTRACED;
	if (t->clone_fix == CLONE_FIX_REGISTER) {
		vft_regs r;
		if (regs_get(t->tid, &r) == 0 && VFT_REG_ARG0(r) == cleared) {
			VFT_REG_ARG0(r) = t->clone_flags;
			regs_set(t->tid, &r);
		}
	} else if (t->clone_fix == CLONE_FIX_MEMORY) {
		/* only if the caller did not change it meanwhile */
		errno = 0;
		long w = ptrace(PTRACE_PEEKDATA, t->tid, (void *)t->clone_fix_addr, 0);
		if (errno == 0 && (uint64_t)w == cleared)
			ptrace(PTRACE_POKEDATA, t->tid, (void *)t->clone_fix_addr, (void *)t->clone_flags);
	}
	t->clone_fix = CLONE_FIX_NONE;
}
