/* Reading ioctl argument memory out of a stopped thread, per capture rule.
 * Faults are data, not errors: we record how far reading got. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u
#define IOV_BATCH 64

/* Reads len bytes at addr; returns how many leading bytes were readable.
 * The remote range is split at page boundaries so a fault is located to
 * the page, not just to the whole request. */
static size_t read_mem(pid_t tid, uint64_t addr, uint8_t *dst, size_t len)
{
	if (len == 0)
		return 0;
	if (addr + len < addr) /* wraps: only the part below the top is addressable */
		len = (size_t)(0 - addr);
	size_t done = 0;
	while (done < len) {
		struct iovec remote[IOV_BATCH];
		size_t want = 0;
		int n = 0;
		uint64_t a = addr + done;
		while (n < IOV_BATCH && done + want < len) {
			size_t room = PAGE - (size_t)((a + want) % PAGE);
			size_t chunk = len - done - want < room ? len - done - want : room;
			remote[n].iov_base = (void *)(uintptr_t)(a + want);
			remote[n].iov_len = chunk;
			want += chunk;
			n++;
		}
		struct iovec local = {dst + done, want};
		ssize_t got = process_vm_readv(tid, &local, 1, remote, (unsigned long)n, 0);
		if (got <= 0)
			return done;
		done += (size_t)got;
		if ((size_t)got < want)
			return done;
	}
	return done;
}

const struct vft_rule *rule_find(const struct vft_rule *rules, uint32_t n, uint32_t request)
{
	/* rules are sorted by request at session start */
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rules[mid].request < request)
			lo = mid + 1;
		else if (rules[mid].request > request)
			hi = mid;
		else
			return &rules[mid];
	}
	return NULL;
}

void fd_dir_close(struct tracee *t)
{
	if (t->fd_dir >= 0)
		close(t->fd_dir);
	t->fd_dir = -1;
}

void fd_path(struct tracee *t, uint64_t fd, struct call *c)
{
	char name[64];
	ssize_t n;
	c->path_len = 0;
	if (fd > 0x7fffffff)
		return;
	/* Relative to the thread's /proc/TID/fd (kept open), the kernel walks
	 * one component instead of four: ~20% of each readlink. The directory
	 * follows the thread, not its number, and always shows its current fd
	 * table. */
	if (t->fd_dir < 0) {
		snprintf(name, sizeof(name), "/proc/%d/fd", (int)t->tid);
		t->fd_dir = open(name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (t->fd_dir >= 0) {
		snprintf(name, sizeof(name), "%d", (int)fd);
		n = readlinkat(t->fd_dir, name, c->path, sizeof(c->path));
	} else {
		/* out of fds here: the full path works as well */
		snprintf(name, sizeof(name), "/proc/%d/fd/%d", (int)t->tid, (int)fd);
		n = readlink(name, c->path, sizeof(c->path));
	}
	if (n > 0)
		c->path_len = (uint16_t)n; /* silently shortened past sizeof(path) */
}

static uint32_t limit_for(const struct vft_rule *r, uint32_t global_cap)
{
	return r->cap != 0 && r->cap < global_cap ? r->cap : global_cap;
}

/* Completes c->in up to `len` bytes, of which the first `have` are already
 * there; sets in_len and the fault fields. The result is the readable
 * prefix, as if the whole range had been read at once. */
static void take_rest(pid_t tid, struct call *c, uint32_t have, uint32_t len)
{
	size_t got = have + read_mem(tid, c->arg + have, c->in + have, len - have);
	c->in_len = (uint32_t)got;
	if (got < len) {
		c->flags |= IOF_IN_FAULT;
		c->in_fault = (uint32_t)got;
	}
}

/* How much a sized struct's first read takes beyond its argsz word. Most
 * VFIO structs are smaller, so one process_vm_readv usually gets the whole
 * struct instead of one for argsz and one for the rest. */
#define SIZED_FIRST_READ 256u

/* Reads a sized struct's argsz word, and with it as much of the struct as
 * lies on the same page (up to SIZED_FIRST_READ and the cap) into c->in:
 * never a page the struct itself may not touch (a neighbouring page could be
 * unmapped or userfaultfd-managed). Sets *have to the bytes now in c->in.
 * Returns -1 when argsz itself is unreadable. */
static int sized_head(pid_t tid, struct call *c, uint32_t lim, uint32_t *argsz, uint32_t *have)
{
	uint32_t first = PAGE - (uint32_t)(c->arg % PAGE);
	if (first > SIZED_FIRST_READ)
		first = SIZED_FIRST_READ;
	if (first > lim)
		first = lim;
	*have = 0;
	if (first < 4) {
		/* tiny cap or argsz across a page boundary: argsz on its own */
		return read_mem(tid, c->arg, (uint8_t *)argsz, 4) < 4 ? -1 : 0;
	}
	size_t got = read_mem(tid, c->arg, c->in, first);
	if (got < 4)
		return -1;
	memcpy(argsz, c->in, 4);
	*have = (uint32_t)got; /* one page: all of `first` or nothing */
	return 0;
}

int capture_entry(pid_t tid, struct call *c, const struct vft_rule *r, uint32_t global_cap, int whole)
{
	c->flags = 0;
	c->want_len = c->in_len = c->out_len = 0;
	c->in_fault = c->out_fault = 0xffffffffu;
	c->kind = r ? (uint8_t)r->kind : VFT_RULE_NONE;
	if (!r)
		return 0;
	uint32_t lim = whole && r->cap != 0 ? r->cap : limit_for(r, global_cap);
	if (lim > VFT_MAX_PAYLOAD_CAP)
		lim = VFT_MAX_PAYLOAD_CAP;
	switch (r->kind) {
	case VFT_RULE_FIXED:
	case VFT_RULE_SIZED: {
		uint32_t want = r->size, have = 0;
		if (r->kind == VFT_RULE_SIZED) {
			uint32_t argsz = 0;
			if (sized_head(tid, c, lim, &argsz, &have) < 0) {
				c->want_len = r->minsz;
				c->flags |= IOF_IN_FAULT;
				c->in_fault = 0;
				return 0;
			}
			want = argsz > r->minsz ? argsz : r->minsz;
		}
		c->want_len = want;
		uint32_t len = want;
		if (len > lim) {
			len = lim;
			c->flags |= IOF_TRUNCATED;
		}
		if (len <= have) {
			c->in_len = len; /* the first read already holds it all */
			return 0;
		}
		take_rest(tid, c, have, len);
		return 0;
	}
	case VFT_RULE_CSTRING: {
		/* read page-sized pieces until a NUL, at most lim + 1 bytes */
		uint32_t got = 0, max = lim;
		while (got < max) {
			uint32_t step = max - got < PAGE ? max - got : PAGE;
			size_t n = read_mem(tid, c->arg + got, c->in + got, step);
			uint8_t *nul = memchr(c->in + got, 0, n);
			if (nul) {
				c->in_len = c->want_len = (uint32_t)(nul - c->in);
				return 0;
			}
			got += (uint32_t)n;
			if (n < step) {
				c->in_len = c->want_len = got;
				c->flags |= IOF_IN_FAULT;
				c->in_fault = got;
				return 0;
			}
		}
		uint8_t extra;
		if (read_mem(tid, c->arg + got, &extra, 1) == 1 && extra == 0) {
			c->in_len = c->want_len = got; /* NUL right after the cap */
			return 0;
		}
		c->in_len = got;
		c->want_len = got + 1;
		c->flags |= IOF_TRUNCATED;
		return 0;
	}
	default: /* NONE, INTEGER: the value is the argument itself */
		return 0;
	}
}

void capture_trim(struct call *c, const struct vft_rule *r, uint32_t global_cap)
{
	if (!r || r->kind == VFT_RULE_NONE || r->kind == VFT_RULE_INTEGER)
		return;
	uint32_t lim = limit_for(r, global_cap);
	if (c->in_len > lim)
		c->in_len = lim;
	/* A fault at or past the cap: a capped read would not have reached it
	 * (an unreadable argsz excepted: that word is read whatever the cap). */
	int argsz_fault = r->kind == VFT_RULE_SIZED && c->in_fault == 0;
	int past = 0;
	if ((c->flags & IOF_IN_FAULT) && c->in_fault >= lim && !argsz_fault) {
		c->flags &= ~(uint32_t)IOF_IN_FAULT;
		c->in_fault = 0xffffffffu;
		past = 1;
	}
	/* a capped string read knows only that the string goes on past the cap */
	if (r->kind == VFT_RULE_CSTRING && (past || c->want_len > lim))
		c->want_len = lim + 1;
	if (c->want_len > lim)
		c->flags |= IOF_TRUNCATED;
}

void capture_exit(pid_t tid, struct call *c)
{
	/* strings are input only; everything else is re-read at the same place */
	if (c->kind == VFT_RULE_CSTRING || c->in_len == 0)
		return;
	size_t got = read_mem(tid, c->arg, c->out, c->in_len);
	c->out_len = (uint32_t)got;
	if (got < c->in_len) {
		c->flags |= IOF_OUT_FAULT;
		c->out_fault = (uint32_t)got;
	}
}
