/* Applying emulation verdicts (include/verdict.h). The engine stays
 * VFIO-agnostic: it only skips a syscall, sets a return value, writes bytes
 * into the tracee, or turns the call into an openat().
 *
 * Skipping and return values use PTRACE_SET_SYSCALL_INFO (Linux 6.16+); on
 * older kernels x86_64 falls back to editing orig_rax/rax with GETREGS. */
#include "engine.h"
#include "arch.h"
#include "../include/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/ptrace.h>
#if defined(__x86_64__)
#include <sys/user.h>
#endif

#ifndef PTRACE_SET_SYSCALL_INFO
#define PTRACE_SET_SYSCALL_INFO 0x4212
#endif

/* Room left below the stack pointer before the openat path: more than any
 * ABI's red zone (x86_64 128, ppc64 288 bytes). */
#define SCRATCH_GAP 1024u

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Reads exactly n bytes, waking up to notice a detach request. */
static int read_full(struct vft_session *s, int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (atomic_load(&s->detach_req))
			return -1;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, 200);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* Writes len bytes at addr in the tracee; returns 0 or -EFAULT. */
int write_mem(pid_t tid, uint64_t addr, const uint8_t *src, size_t len)
{
	if (len == 0)
		return 0;
	struct iovec local = {(void *)src, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	/* Unmapped or read-only memory: copy_to_user would fail the same way.
	 * (PTRACE_POKEDATA would force the write into a read-only page.) */
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	/* process_vm_writev itself unavailable: word by word. */
	size_t w = sizeof(long);
	for (size_t off = 0; off < len; off += w) {
		uint64_t a = addr + off;
		long word;
		size_t k = len - off < w ? len - off : w;
		if (k < w) {
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)a, 0);
			if (errno)
				return -EFAULT;
		}
		memcpy(&word, src + off, k);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)a, (void *)word) < 0)
			return -EFAULT;
	}
	return 0;
}

/* VFT_EMU_REGS=1 in the environment skips PTRACE_SET_SYSCALL_INFO, so the
 * register fallback of older kernels can be exercised on a new one. */
static int use_set_info(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("VFT_EMU_REGS");
		v = !(e && e[0] == '1');
	}
	return v;
}

/* The stop's syscall info, zeroed first; > 0 when the kernel filled it. */
static long get_info(pid_t tid, struct ptrace_syscall_info *si)
{
	memset(si, 0, sizeof(*si));
	return ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(*si), si);
}

/* Sets the syscall number (and args unless NULL) at an entry/seccomp stop. */
static int set_call(pid_t tid, int64_t nr, const uint64_t *args, uint64_t *sp)
{
	struct ptrace_syscall_info si;
	long n = use_set_info() ? get_info(tid, &si) : 0;
	if (n > 0 && (si.op == PTRACE_SYSCALL_INFO_SECCOMP || si.op == PTRACE_SYSCALL_INFO_ENTRY)) {
		*sp = si.stack_pointer;
		/* entry and seccomp share the nr/args layout */
		si.entry.nr = (uint64_t)nr;
		if (args)
			memcpy(si.entry.args, args, sizeof(si.entry.args));
		if (si.op == PTRACE_SYSCALL_INFO_SECCOMP)
			si.seccomp.ret_data = 0;
		if (ptrace(PTRACE_SET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) == 0)
			return 0;
	}
#if defined(__x86_64__)
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return -1;
	*sp = r.rsp;
	r.orig_rax = (uint64_t)nr;
	if (args) {
		r.rdi = args[0];
		r.rsi = args[1];
		r.rdx = args[2];
		r.r10 = args[3];
		r.r8 = args[4];
		r.r9 = args[5];
	}
	return ptrace(PTRACE_SETREGS, tid, 0, &r) == 0 ? 0 : -1;
#else
	return -1;
#endif
}

static int get_sp(pid_t tid, uint64_t *sp)
{
	struct ptrace_syscall_info si;
	if (get_info(tid, &si) <= 0)
		return -1;
	*sp = si.stack_pointer;
	return 0;
}

/* Sets the return value at the exit stop. */
static int set_ret(pid_t tid, int64_t ret)
{
	struct ptrace_syscall_info si;
	long n = use_set_info() ? get_info(tid, &si) : 0;
	if (n > 0 && si.op == PTRACE_SYSCALL_INFO_EXIT) {
		si.exit.rval = ret;
		si.exit.is_error = ret < 0 && ret >= -4095;
		if (ptrace(PTRACE_SET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) == 0)
			return 0;
	}
#if defined(__x86_64__)
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return -1;
	r.rax = (uint64_t)ret;
	return ptrace(PTRACE_SETREGS, tid, 0, &r) == 0 ? 0 : -1;
#else
	return -1;
#endif
}

static void emulation_off(struct vft_session *s)
{
	s->cfg.verdict_fd = -1;
}

/* The PENDING record: the IOCTL layout with the entry part only. */
static void write_pending(struct vft_session *s, struct tracee *t)
{
	struct call *c = &t->call;
	size_t len = pad8(88 + (size_t)c->path_len + c->in_len);
	/* the thread's previous call left its exit half here */
	c->t_exit = 0;
	c->ret = 0;
	c->out_len = 0;
	rec_ioctl(&s->ob, t->pid, t->tid, c);
	if (s->ob.len >= len) {
		uint16_t type = VFT_REC_PENDING;
		memcpy(s->ob.data + s->ob.len - len, &type, 2);
	}
	ob_flush(&s->ob);
}

int verdict_parse(const uint8_t *h, const uint8_t *body, uint32_t body_len, struct verdict_msg *v)
{
	memset(v, 0, sizeof(*v));
	if (rd32(h) != VFT_VERDICT_MAGIC || rd32(h + 28) != body_len)
		return -1;
	v->action = rd32(h + 4);
	v->ret = (int64_t)rd64(h + 8);
	v->nwrites = rd32(h + 16);
	v->path_len = rd32(h + 20);
	v->open_flags = rd32(h + 24);
	v->body = body;
	if (v->action == VFT_VERDICT_RUN)
		return 0;
	if (v->action == VFT_VERDICT_RETURN) {
		size_t o = 0;
		for (uint32_t i = 0; i < v->nwrites; i++) {
			if (o + 16 > body_len)
				return -1;
			uint32_t len = rd32(body + o + 8);
			if (len > body_len - o - 16)
				return -1;
			o += 16 + pad8(len);
		}
		return 0;
	}
	if (v->action == VFT_VERDICT_OPENAT) {
		if (v->nwrites != 0 || v->path_len == 0 || v->path_len > 4095 || v->path_len > body_len)
			return -1;
		v->path = body;
		return 0;
	}
	return -1;
}

int64_t verdict_write(pid_t tid, const struct verdict_msg *v, int *faulted)
{
	int64_t ret = v->ret;
	size_t o = 0;
	if (faulted)
		*faulted = 0;
	for (uint32_t i = 0; i < v->nwrites; i++) {
		uint64_t addr = rd64(v->body + o);
		uint32_t len = rd32(v->body + o + 8);
		if (write_mem(tid, addr, v->body + o + 16, len) < 0) {
			ret = -EFAULT; /* as copy_to_user would have failed */
			if (faulted)
				*faulted = 1;
		}
		o += 16 + pad8(len);
	}
	return ret;
}

void verdict_overlay(const struct verdict_msg *v, uint64_t base, uint8_t *buf, uint32_t len)
{
	size_t o = 0;
	for (uint32_t i = 0; i < v->nwrites; i++) {
		uint64_t addr = rd64(v->body + o);
		uint32_t n = rd32(v->body + o + 8);
		uint64_t lo = addr > base ? addr : base;
		uint64_t hi = addr + n < base + len ? addr + n : base + len;
		if (lo < hi)
			memcpy(buf + (lo - base), v->body + o + 16 + (lo - addr), hi - lo);
		o += 16 + pad8(n);
	}
}

static int apply(struct tracee *t, const struct verdict_msg *v)
{
	struct call *c = &t->call;
	uint32_t action = v->action, path_len = v->path_len;
	const uint8_t *path = v->path;
	if (action == VFT_VERDICT_RUN)
		return 0;
	uint64_t sp = 0;
	if (action == VFT_VERDICT_RETURN) {
		/* skip first: if that is impossible the kernel answers, untouched */
		if (set_call(t->tid, -1, NULL, &sp) < 0)
			return 0;
		c->emu = 1;
		c->emu_ret = verdict_write(t->tid, v, NULL);
		return 0;
	}
	/* OPENAT: the path goes below the red zone of the tracee's stack. */
	uint64_t args[6] = {0};
	if (get_sp(t->tid, &sp) < 0 || sp < SCRATCH_GAP + path_len + 16)
		return 0;
	uint64_t at = (sp - SCRATCH_GAP - path_len - 1) & ~(uint64_t)15;
	uint8_t buf[4096];
	memcpy(buf, path, path_len);
	buf[path_len] = 0;
	if (write_mem(t->tid, at, buf, path_len + 1) < 0)
		return 0;
	args[0] = (uint64_t)(int64_t)AT_FDCWD;
	args[1] = at;
	args[2] = v->open_flags;
	if (set_call(t->tid, __NR_openat, args, &sp) < 0)
		return 0;
	c->emu = 2;
	return 0;
}

void verdict_entry(struct vft_session *s, struct tracee *t)
{
	t->call.emu = 0;
	int fd = s->cfg.verdict_fd;
	if (fd < 0 || s->ob.broken)
		return;
	write_pending(s, t);
	uint8_t h[VFT_VERDICT_HEADER_LEN];
	struct verdict_msg v;
	if (read_full(s, fd, h, sizeof(h)) < 0 || rd32(h) != VFT_VERDICT_MAGIC) {
		emulation_off(s);
		return;
	}
	uint32_t body_len = rd32(h + 28);
	if (body_len > VFT_VERDICT_MAX_BODY) {
		emulation_off(s);
		return;
	}
	uint8_t *body = body_len ? malloc(body_len) : NULL;
	if (body_len && (!body || read_full(s, fd, body, body_len) < 0)) {
		free(body);
		emulation_off(s);
		return;
	}
	if (verdict_parse(h, body, body_len, &v) < 0 || apply(t, &v) < 0)
		emulation_off(s);
	free(body);
}

int64_t verdict_exit(struct tracee *t, int64_t ret)
{
	struct call *c = &t->call;
	if (c->emu == 1 && set_ret(t->tid, c->emu_ret) == 0)
		ret = c->emu_ret;
	c->flags |= VFT_IOF_EMULATED;
	c->emu = 0;
	return ret;
}
