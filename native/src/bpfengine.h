/* The eBPF backend's internals (bpf.c, bpfring.c, bpfevents.c). */
#ifndef VFT_BPFENGINE_H
#define VFT_BPFENGINE_H

#include "engine.h"

/* Built only where the libbpf headers (for the light skeleton's loader) and
 * the kernel's uapi headers are, on little-endian machines (the committed
 * skeleton's byte order): elsewhere bpf_start says so. */
#if defined(__has_include) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#if __has_include(<bpf/skel_internal.h>) && __has_include(<linux/bpf.h>)
#define VFT_HAVE_BPF 1
#endif
#endif

#ifdef VFT_HAVE_BPF

/* ---- bpfring.c: the bpf() calls the engine makes itself ---- */

struct bpf_ring {
	int fd;
	size_t size;           /* data bytes, a power of two */
	void *consumer;        /* the page holding consumer_pos (ours to write) */
	void *producer;        /* producer_pos page, then the data mapped twice */
	const uint8_t *data;
};

int ring_open(struct bpf_ring *r, int map_fd, size_t size);
void ring_close(struct bpf_ring *r);
/* Hands each committed record to fn, in order; returns how many. */
size_t ring_drain(struct bpf_ring *r, void (*fn)(void *ctx, const void *rec, uint32_t len), void *ctx);

int bpf_map_put(int map_fd, const void *key, const void *value);
int bpf_map_get(int map_fd, const void *key, void *value);
int bpf_map_del(int map_fd, const void *key);
/* The key after key (NULL: the first); -1 with errno ENOENT past the last. */
int bpf_map_next(int map_fd, const void *key, void *next);
/* Entries of a per-CPU map: the possible CPUs, as the kernel counts them. */
int possible_cpus(void);

/* ---- bpfevents.c: ring records to recording records ---- */

struct fd_path {
	pid_t pid;
	int fd;
	uint16_t len;
	char *path;
};

struct bpf_events {
	struct vft_session *s;
	int targets_fd;
	/* fd paths seen, forgotten on close/dup2/dup3 and exec */
	struct fd_path *paths;
	size_t npaths, paths_cap;
	/* reported processes still alive */
	pid_t *live;
	size_t nlive, live_cap;
	int main_reaped; /* spawn: the command has been waited for */
	int main_gone;   /* its last thread's exit has been seen */
};

int events_init(struct bpf_events *e, struct vft_session *s, int targets_fd);
void events_free(struct bpf_events *e);
void events_handle(void *ctx, const void *rec, uint32_t len);
/* Whether the session is over (reaps a spawned command). */
int events_reap(struct bpf_events *e);
/* Calls still open become NO_EXIT records; on detach, DETACHED records. */
void events_finish(struct bpf_events *e, int detaching);
/* A reported process still alive (bpfevents.c). */
void live_add(struct bpf_events *e, pid_t pid);

/* ---- bpfstart.c: spawn and attach ---- */

/* THREAD records (creator 0) for pid's threads but the leader, in tid order. */
void announce_threads(struct vft_session *s, pid_t pid);
int bpf_spawn(struct vft_session *s, struct bpf_events *e);
int bpf_attach(struct vft_session *s, struct bpf_events *e);

#endif
#endif
