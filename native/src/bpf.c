/* The eBPF backend: loads the capture program (bpf/capture.bpf.c, built
 * into bpf/gen/capture.lskel.h), points it at the traced processes and
 * turns its ring buffer into the same recording as the ptrace backend
 * (bpfevents.c). The tracees never stop: spawn mode starts the command,
 * adds it to the targets map, then lets it exec; attach mode adds the pids.
 *
 * The light skeleton loads through the bpf() syscall alone, so the engine
 * needs no libbpf at run time; the headers are needed to build it, and
 * without them this file builds as a backend that says why it is absent. */
#include "bpfengine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef VFT_HAVE_BPF

int bpf_start(struct vft_session *s)
{
	set_err(s, "the eBPF backend is not in this engine (built without the libbpf headers, or for a big-endian machine)");
	return -1;
}

void bpf_loop(struct vft_session *s) { (void)s; }

void bpf_stop(struct vft_session *s) { (void)s; }

#else

#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bpf/events.h"
#include "../bpf/gen/capture.lskel.h"
/* skel_internal.h has a set_err macro of its own */
#undef set_err

/* Syscall tracepoints the light skeleton cannot attach by itself. */
static const struct {
	const char *event;
	size_t prog; /* offsetof the program's descriptor in skel->progs */
} TRACEPOINTS[] = {
	{"sys_enter_ioctl", offsetof(struct vft_capture, progs.on_ioctl_enter)},
	{"sys_exit_ioctl", offsetof(struct vft_capture, progs.on_ioctl_exit)},
	{"sys_enter_close", offsetof(struct vft_capture, progs.on_close)},
	{"sys_enter_dup2", offsetof(struct vft_capture, progs.on_dup2)},
	{"sys_enter_dup3", offsetof(struct vft_capture, progs.on_dup3)},
};
#define NTP (sizeof(TRACEPOINTS) / sizeof(TRACEPOINTS[0]))

struct bpf_backend {
	struct vft_capture *skel;
	int tp_fds[NTP];
	struct bpf_ring ring;
	struct bpf_events ev;
};

/* Where tracefs is not mounted yet (a fresh boot often leaves it so), mount
 * it at its usual place, as perf does: the tracepoint ids live there. */
static void mount_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0 && errno != EBUSY)
		return;
}

static int tracepoint_id(const char *event)
{
	static const char *roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	mount_tracefs();
	for (size_t i = 0; i < 2; i++) {
		char p[160], buf[32];
		snprintf(p, sizeof(p), "%s/events/syscalls/%s/id", roots[i], event);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			return atoi(buf);
		}
	}
	return -1;
}

/* perf_event_open on the tracepoint, then the program on it: the program
 * runs for every hit, whatever CPU the event was opened on. */
static int attach_tracepoint(int prog_fd, const char *event)
{
	int id = tracepoint_id(event);
	if (id < 0)
		return -ENOENT;
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = (uint64_t)id;
	a.sample_period = 1;
	a.wakeup_events = 1;
	int pfd = (int)syscall(__NR_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) != 0 || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
		int e = errno;
		close(pfd);
		return -e;
	}
	return pfd;
}

static void backend_free(struct bpf_backend *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < NTP; i++)
		if (b->tp_fds[i] >= 0)
			close(b->tp_fds[i]);
	ring_close(&b->ring);
	events_free(&b->ev);
	if (b->skel)
		vft_capture__destroy(b->skel);
	free(b);
}

void bpf_stop(struct vft_session *s)
{
	backend_free(s->bpf);
	s->bpf = NULL;
}

_Static_assert((int)VFT_BPF_RULE_NONE == (int)VFT_RULE_NONE && (int)VFT_BPF_RULE_INTEGER == (int)VFT_RULE_INTEGER &&
		       (int)VFT_BPF_RULE_FIXED == (int)VFT_RULE_FIXED && (int)VFT_BPF_RULE_SIZED == (int)VFT_RULE_SIZED &&
		       (int)VFT_BPF_RULE_CSTRING == (int)VFT_RULE_CSTRING,
	       "the eBPF program's rule kinds differ from the engine's");

static int fill_rules(struct vft_session *s, struct bpf_backend *b)
{
	for (uint32_t i = 0; i < s->cfg.nrules; i++) {
		const struct vft_rule *r = &s->rules[i];
		struct vft_bpf_rule v = {r->kind, r->size, r->minsz, r->cap};
		if (bpf_map_put(b->skel->maps.rules.map_fd, &r->request, &v) != 0)
			return -1;
	}
	return 0;
}

static int load(struct vft_session *s, struct bpf_backend *b)
{
	b->skel = vft_capture__open();
	if (!b->skel) {
		set_err(s, "cannot open the eBPF capture program: %s", strerror(errno));
		return -1;
	}
	b->skel->rodata->ioctl_type = s->cfg.ioctl_type < 0 ? 0xffffffffu : (uint32_t)s->cfg.ioctl_type;
	b->skel->rodata->payload_cap = s->cap < VFT_BPF_MAX_DATA ? s->cap : VFT_BPF_MAX_DATA;
	b->skel->rodata->small_ring = (s->cfg.bpf_flags & VFT_BPF_SMALL_RING) != 0;
	b->skel->rodata->trace_all = s->cfg.mode == VFT_MODE_ALL;
	b->skel->rodata->wake_bytes = (s->cfg.bpf_flags & VFT_BPF_SMALL_RING) ? 4096 : 256 * 1024;
	if (vft_capture__load(b->skel) != 0) {
		int e = errno;
		set_err(s, "cannot load the eBPF capture program: %s%s", strerror(e),
			e == EPERM ? " (needs root, or CAP_BPF with CAP_PERFMON)" : "");
		return -1;
	}
	if (fill_rules(s, b) != 0) {
		set_err(s, "cannot fill the eBPF rules map: %s", strerror(errno));
		return -1;
	}
	/* Host-wide, the tracer's own process is left out (an unreported
	 * target), before any program runs: attaching them takes ioctls of its
	 * own, and with --all-ioctls so would its terminal and sockets. */
	struct vft_bpf_target self = {0, 0};
	uint32_t pid = (uint32_t)getpid();
	if (s->cfg.mode == VFT_MODE_ALL && bpf_map_put(b->skel->maps.targets.map_fd, &pid, &self) != 0) {
		set_err(s, "cannot fill the eBPF targets map: %s", strerror(errno));
		return -1;
	}
	int small = (s->cfg.bpf_flags & VFT_BPF_SMALL_RING) != 0;
	int ring_fd = small ? b->skel->maps.ring_small.map_fd : b->skel->maps.ring.map_fd;
	if (ring_open(&b->ring, ring_fd, small ? 16u << 10 : 8u << 20) != 0) {
		set_err(s, "cannot map the eBPF ring buffer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int attach(struct vft_session *s, struct bpf_backend *b)
{
	if (vft_capture__attach(b->skel) != 0) {
		set_err(s, "cannot attach the eBPF capture program: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < NTP; i++) {
		const struct bpf_prog_desc *p = (const void *)((const char *)b->skel + TRACEPOINTS[i].prog);
		b->tp_fds[i] = attach_tracepoint(p->prog_fd, TRACEPOINTS[i].event);
		if (b->tp_fds[i] < 0) {
			int e = -b->tp_fds[i];
			set_err(s, "cannot attach the eBPF program to the syscalls:%s tracepoint: %s%s", TRACEPOINTS[i].event, strerror(e),
				e == ENOENT ? " (tracefs is not mounted at /sys/kernel/tracing and could not be)" : "");
			return -1;
		}
	}
	return 0;
}

/* The program sees the host's pids (the initial pid namespace); from inside
 * another one the pids vfiotrace knows are not those. */
static int in_initial_pid_ns(void)
{
	struct stat st;
	return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu /* PROC_PID_INIT_INO */;
}

int bpf_start(struct vft_session *s)
{
	if (!in_initial_pid_ns()) {
		set_err(s, "cannot use the eBPF backend: it sees the host's pids, and this is not the host's pid namespace");
		return -1;
	}
	struct bpf_backend *b = calloc(1, sizeof(*b));
	if (!b) {
		set_err(s, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < NTP; i++)
		b->tp_fds[i] = -1;
	b->ring.fd = -1;
	s->bpf = b;
	if (load(s, b) != 0 || attach(s, b) != 0 || events_init(&b->ev, s, b->skel->maps.targets.map_fd) != 0) {
		bpf_stop(s);
		return -1;
	}
	/* host-wide: processes are introduced as they make their first call */
	int rc = s->cfg.mode == VFT_MODE_SPAWN ? bpf_spawn(s, &b->ev) : s->cfg.mode == VFT_MODE_ATTACH ? bpf_attach(s, &b->ev) : 0;
	if (rc != 0)
		bpf_stop(s);
	return rc;
}

static uint64_t dropped(struct bpf_backend *b)
{
	int ncpu = possible_cpus();
	uint64_t *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(uint64_t));
	uint32_t key = VFT_CNT_DROPPED;
	uint64_t sum = 0;
	if (v && bpf_map_get(b->skel->maps.counters.map_fd, &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* The command and every process it is followed into (the targets map). */
static void signal_targets(struct vft_session *s, struct bpf_backend *b, int sig)
{
	kill(s->main_pid, sig);
	uint32_t key = 0, next;
	const void *prev = NULL;
	while (bpf_map_next(b->skel->maps.targets.map_fd, prev, &next) == 0) {
		if ((pid_t)next != s->main_pid)
			kill((pid_t)next, sig);
		key = next;
		prev = &key;
	}
}

/* vft_end, as the ptrace engine does it: the signal now, SIGKILL to what is
 * left once VFT_END_GRACE_MS has passed (or at once when asked for). */
static void end_step(struct vft_session *s, struct bpf_backend *b)
{
	int sig = atomic_load(&s->end_sig);
	if (s->main_pid <= 0 || sig == 0)
		return;
	if (!s->ending || (sig == SIGKILL && !s->end_killed)) {
		if (!s->ending) {
			s->ending = 1;
			s->end_started = now_ns(CLOCK_MONOTONIC);
		}
		s->end_killed |= sig == SIGKILL;
		atomic_store(&s->detach_ack, 1);
		signal_targets(s, b, sig);
	} else if (!s->end_killed && now_ns(CLOCK_MONOTONIC) - s->end_started > (uint64_t)VFT_END_GRACE_MS * 1000000ull) {
		s->end_killed = 1;
		signal_targets(s, b, SIGKILL);
	}
}

void bpf_loop(struct vft_session *s)
{
	struct bpf_backend *b = s->bpf;
	struct bpf_events *ev = &b->ev;
	struct pollfd pfd = {b->ring.fd, POLLIN, 0};
	/* The test ring is read only once a spawned command is gone, so that
	 * it overflows whatever the scheduler does. */
	int hold = (s->cfg.bpf_flags & VFT_BPF_SMALL_RING) && s->cfg.mode == VFT_MODE_SPAWN;
	/* the header and the START records now: an attached process may make
	 * no call for a long time, and a reader waits for its START */
	ob_flush(&s->ob);
	for (;;) {
		/* The engine polls too: records below the wake-up threshold must not wait long. */
		int n = poll(&pfd, 1, 50);
		(void)n;
		/* what was drained goes out now: the ring wakes us in batches already */
		if ((!hold || ev->main_reaped) && ring_drain(&b->ring, events_handle, ev) > 0)
			ob_flush(&s->ob);
		if (atomic_load(&s->detach_req) && !s->detaching) {
			atomic_store(&s->detach_ack, 1);
			s->detaching = 1;
		}
		end_step(s, b);
		if (events_reap(ev) || s->detaching) {
			/* everything the processes did is in the ring by now */
			ring_drain(&b->ring, events_handle, ev);
			break;
		}
	}
	events_finish(ev, s->detaching);
	uint64_t lost = dropped(b);
	s->result.events = s->events;
	rec_end(&s->ob, s->result.reason, s->result.status, lost > 0xffffffffu ? 0xffffffffu : (uint32_t)lost, s->events,
		s->result.text);
	ob_flush(&s->ob);
	bpf_stop(s);
}

#endif
