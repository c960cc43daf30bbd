/* The few bpf() calls the eBPF backend makes itself (map updates, reads),
 * and the consumer side of a BPF ring buffer, read straight from its
 * mapping: each record has an 8-byte header (length with BUSY and DISCARD
 * bits, then the page offset) and starts 8-byte aligned. */
#include "bpfengine.h"

#ifdef VFT_HAVE_BPF

#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int map_elem(int cmd, int map_fd, const void *key, const void *value, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = flags;
	return sys_bpf(cmd, &a) == 0 ? 0 : -1;
}

int bpf_map_put(int map_fd, const void *key, const void *value)
{
	return map_elem(BPF_MAP_UPDATE_ELEM, map_fd, key, value, BPF_ANY);
}

int bpf_map_get(int map_fd, const void *key, void *value)
{
	return map_elem(BPF_MAP_LOOKUP_ELEM, map_fd, key, value, 0);
}

int bpf_map_del(int map_fd, const void *key)
{
	return map_elem(BPF_MAP_DELETE_ELEM, map_fd, key, NULL, 0);
}

int bpf_map_next(int map_fd, const void *key, void *next)
{
	return map_elem(BPF_MAP_GET_NEXT_KEY, map_fd, key, next, 0);
}

/* "0-7" or "0-3,5": the highest CPU number plus one. */
int possible_cpus(void)
{
	char buf[256];
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int hi = 0;
	if (!f)
		return (int)sysconf(_SC_NPROCESSORS_CONF);
	if (fgets(buf, sizeof(buf), f)) {
		for (char *p = buf; *p;) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v + 1 > hi)
				hi = (int)v + 1;
			p = *end ? end + 1 : end;
		}
	}
	fclose(f);
	return hi > 0 ? hi : 1;
}

int ring_open(struct bpf_ring *r, int map_fd, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	r->fd = map_fd;
	r->size = size;
	r->consumer = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (r->consumer == MAP_FAILED) {
		r->consumer = r->producer = NULL;
		return -1;
	}
	/* the data is mapped twice back to back: a record never wraps */
	r->producer = mmap(NULL, (size_t)page + 2 * size, PROT_READ, MAP_SHARED, map_fd, page);
	if (r->producer == MAP_FAILED) {
		munmap(r->consumer, (size_t)page);
		r->consumer = r->producer = NULL;
		return -1;
	}
	r->data = (const uint8_t *)r->producer + page;
	return 0;
}

void ring_close(struct bpf_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	if (r->consumer)
		munmap(r->consumer, (size_t)page);
	if (r->producer)
		munmap(r->producer, (size_t)page + 2 * r->size);
	r->consumer = r->producer = NULL;
}

#define RB_BUSY (1u << 31)
#define RB_DISCARD (1u << 30)
#define RB_HDR 8u

size_t ring_drain(struct bpf_ring *r, void (*fn)(void *ctx, const void *rec, uint32_t len), void *ctx)
{
	if (!r->consumer)
		return 0;
	unsigned long *cons_pos = r->consumer;
	const unsigned long *prod_pos = r->producer;
	unsigned long cons = __atomic_load_n(cons_pos, __ATOMIC_ACQUIRE);
	size_t n = 0;
	for (;;) {
		unsigned long prod = __atomic_load_n(prod_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			const uint8_t *at = r->data + (cons & (r->size - 1));
			uint32_t hdr = __atomic_load_n((const uint32_t *)at, __ATOMIC_ACQUIRE);
			if (hdr & RB_BUSY)
				return n; /* being written: the next drain takes it */
			uint32_t len = hdr & ~(RB_BUSY | RB_DISCARD);
			if (!(hdr & RB_DISCARD)) {
				fn(ctx, at + RB_HDR, len);
				n++;
			}
			cons += (RB_HDR + len + 7) & ~7ul;
			__atomic_store_n(cons_pos, cons, __ATOMIC_RELEASE);
		}
	}
	return n;
}

#endif
