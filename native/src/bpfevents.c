/* The eBPF backend's records: ring events (bpf/events.h) in, the recording's
 * IOCTL and PROCESS records out, as the ptrace backend writes them; host-wide,
 * processes introduced as they are met; and when a session is over. */
#include "bpfengine.h"

#ifdef VFT_HAVE_BPF

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bpf/events.h"



/* ---- fd paths: read from /proc on first sight, forgotten when BPF sees the fd replaced ---- */

static struct fd_path *path_find(struct bpf_events *e, pid_t pid, int fd)
{
	for (size_t i = 0; i < e->npaths; i++)
		if (e->paths[i].pid == pid && e->paths[i].fd == fd)
			return &e->paths[i];
	return NULL;
}

static void path_forget(struct bpf_events *e, pid_t pid, int fd)
{
	for (size_t i = 0; i < e->npaths;) {
		if (e->paths[i].pid == pid && (fd < 0 || e->paths[i].fd == fd)) {
			free(e->paths[i].path);
			e->paths[i] = e->paths[--e->npaths];
		} else {
			i++;
		}
	}
}

static struct fd_path *path_remember(struct bpf_events *e, pid_t pid, int fd, const char *path, size_t len)
{
	path_forget(e, pid, fd);
	if (len > sizeof(((struct call *)0)->path))
		len = sizeof(((struct call *)0)->path);
	if (e->npaths == e->paths_cap) {
		size_t cap = e->paths_cap ? e->paths_cap * 2 : 64;
		struct fd_path *np = realloc(e->paths, cap * sizeof(*np));
		if (!np)
			return NULL;
		e->paths = np;
		e->paths_cap = cap;
	}
	struct fd_path *p = &e->paths[e->npaths];
	p->path = malloc(len ? len : 1);
	if (!p->path)
		return NULL;
	memcpy(p->path, path, len);
	p->pid = pid;
	p->fd = fd;
	p->len = (uint16_t)len;
	e->npaths++;
	return p;
}

/* The path the program sent when the call began; /proc if that was lost. */
static void path_of(struct bpf_events *e, pid_t pid, pid_t tid, uint64_t fd, struct call *c)
{
	c->path_len = 0;
	if (fd > 0x7fffffff)
		return;
	struct fd_path *p = path_find(e, pid, (int)fd);
	if (!p) {
		char name[64];
		snprintf(name, sizeof(name), "/proc/%d/fd/%d", (int)tid, (int)fd);
		ssize_t n = readlink(name, c->path, sizeof(c->path));
		if (n <= 0)
			return; /* gone already: no path, as for an fd ptrace could not read */
		p = path_remember(e, pid, (int)fd, c->path, (size_t)n);
		if (!p)
			return;
	}
	memcpy(c->path, p->path, p->len);
	c->path_len = p->len;
}

/* ---- the reported processes still alive ---- */

void live_add(struct bpf_events *e, pid_t pid)
{
	for (size_t i = 0; i < e->nlive; i++)
		if (e->live[i] == pid)
			return;
	if (e->nlive == e->live_cap) {
		size_t cap = e->live_cap ? e->live_cap * 2 : 16;
		pid_t *nl = realloc(e->live, cap * sizeof(pid_t));
		if (!nl)
			return;
		e->live = nl;
		e->live_cap = cap;
	}
	e->live[e->nlive++] = pid;
}

static int live_has(const struct bpf_events *e, pid_t pid)
{
	for (size_t i = 0; i < e->nlive; i++)
		if (e->live[i] == pid)
			return 1;
	return 0;
}

static void live_remove(struct bpf_events *e, pid_t pid)
{
	for (size_t i = 0; i < e->nlive; i++)
		if (e->live[i] == pid) {
			e->live[i] = e->live[--e->nlive];
			return;
		}
}

/* Whether pid has exited (gone, or a zombie): its exit event is then in the
 * ring already, or was lost with a full ring. */
static int exited(pid_t pid)
{
	char p[64], buf[256];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X'))
		return 0;
	/* a leader that exited before its threads shows Z too: count them */
	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return 1;
	int threads = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		threads += de->d_name[0] != '.';
	closedir(d);
	return threads <= 1;
}

/* A process whose exit event was lost (a full ring) must not keep the
 * session waiting for it. */
static void live_prune(struct bpf_events *e)
{
	for (size_t i = 0; i < e->nlive;)
		if (exited(e->live[i]))
			e->live[i] = e->live[--e->nlive];
		else
			i++;
}

/* ---- one thread's call in flight ---- */

static struct tracee *thread_of(struct bpf_events *e, pid_t pid, pid_t tid)
{
	struct tracee *t = tt_find(&e->s->tt, tid);
	if (t)
		return t;
	t = tt_add(&e->s->tt, tid);
	if (!t)
		return NULL;
	t->pid = pid;
	t->report = 1;
	t->announced = 1;
	return t;
}

static int buffers(struct call *c)
{
	if (!c->in)
		c->in = malloc(VFT_BPF_MAX_DATA);
	if (!c->out)
		c->out = malloc(VFT_BPF_MAX_DATA);
	return c->in && c->out ? 0 : -1;
}

/* The program's flags are the recording's bits. */
_Static_assert(VFT_BPF_TRUNCATED == IOF_TRUNCATED && VFT_BPF_IN_FAULT == IOF_IN_FAULT && VFT_BPF_OUT_FAULT == IOF_OUT_FAULT &&
		       VFT_BPF_IN_UNAVAIL == IOF_IN_UNAVAILABLE && VFT_BPF_OUT_UNAVAIL == IOF_OUT_UNAVAILABLE,
	       "eBPF record flags differ from the recording's");

static void write_call(struct bpf_events *e, struct tracee *t)
{
	rec_ioctl(&e->s->ob, t->pid, t->tid, &t->call);
	e->s->events++;
	t->in_call = 0;
}

/* Host-wide: a process met at a call of its own, already running, is
 * introduced once, as attach introduces one (START with parent 0, THREAD
 * records for its other threads), at its SEEN or at an ENTRY of another of
 * its threads that the ring gave first (both carry its name). */
static void meet(struct bpf_events *e, pid_t pid, const char *comm)
{
	if (live_has(e, pid))
		return;
	rec_process(&e->s->ob, PK_START, pid, pid, 0, 0, comm);
	announce_threads(e->s, pid);
	live_add(e, pid);
}

static void on_seen(struct bpf_events *e, const struct vft_ev_seen *x)
{
	char comm[sizeof(x->comm) + 1];
	memcpy(comm, x->comm, sizeof(x->comm));
	comm[sizeof(x->comm)] = '\0';
	meet(e, (pid_t)x->h.pid, comm);
}

static void on_entry(struct bpf_events *e, const struct vft_ev_entry *x, uint32_t len)
{
	if (e->s->cfg.mode == VFT_MODE_ALL) {
		char comm[sizeof(x->comm) + 1];
		memcpy(comm, x->comm, sizeof(x->comm));
		comm[sizeof(x->comm)] = '\0';
		meet(e, (pid_t)x->h.pid, comm);
	}
	struct tracee *t = thread_of(e, (pid_t)x->h.pid, (pid_t)x->h.tid);
	if (!t || buffers(&t->call) != 0)
		return;
	/* An entry while one is open: that call's exit was lost (counted as dropped). */
	struct call *c = &t->call;
	uint32_t n = x->h.len <= len - sizeof(*x) ? x->h.len : len - (uint32_t)sizeof(*x);
	c->t_entry = x->h.ts;
	c->t_exit = 0;
	c->fd = x->fd;
	c->request = x->request;
	c->arg = x->arg;
	c->ret = 0;
	c->flags = x->flags & (IOF_TRUNCATED | IOF_IN_FAULT | IOF_IN_UNAVAILABLE);
	c->want_len = x->want_len;
	c->in_len = n;
	c->out_len = 0;
	c->in_fault = x->in_fault;
	c->out_fault = 0xffffffffu;
	c->kind = (uint8_t)x->kind;
	memcpy(c->in, (const uint8_t *)(x + 1), n);
	path_of(e, t->pid, t->tid, c->fd, c);
	t->in_call = 1;
}

static void on_exit_call(struct bpf_events *e, const struct vft_ev_exit *x, uint32_t len)
{
	struct tracee *t = tt_find(&e->s->tt, (pid_t)x->h.tid);
	if (!t || !t->in_call)
		return; /* its entry was lost */
	struct call *c = &t->call;
	uint32_t n = x->h.len <= len - sizeof(*x) ? x->h.len : len - (uint32_t)sizeof(*x);
	if (n > c->in_len)
		n = c->in_len;
	c->t_exit = x->h.ts;
	c->ret = x->ret;
	c->out_len = n;
	memcpy(c->out, (const uint8_t *)(x + 1), n);
	if (x->flags & VFT_BPF_OUT_FAULT) {
		c->flags |= x->flags & (IOF_OUT_FAULT | IOF_OUT_UNAVAILABLE);
		c->out_fault = x->out_fault;
	}
	write_call(e, t);
}

static void on_fork(struct bpf_events *e, const struct vft_ev_fork *x)
{
	struct vft_session *s = e->s;
	if (x->child_pid == x->h.pid) {
		rec_process(&s->ob, PK_THREAD, (pid_t)x->child_pid, (pid_t)x->child_tid, 0, x->h.tid, NULL);
		return;
	}
	char comm[sizeof(x->comm) + 1];
	memcpy(comm, x->comm, sizeof(x->comm));
	comm[sizeof(x->comm)] = '\0';
	rec_process(&s->ob, PK_START, (pid_t)x->child_pid, (pid_t)x->child_pid, 0, x->h.pid, comm);
	live_add(e, (pid_t)x->child_pid);
}

static void on_exec(struct bpf_events *e, const struct vft_ev_exec *x, uint32_t len)
{
	char path[4097];
	uint32_t n = x->h.len <= len - sizeof(*x) ? x->h.len : len - (uint32_t)sizeof(*x);
	if (n > 4096)
		n = 4096;
	memcpy(path, (const char *)(x + 1), n);
	path[n] = '\0';
	/* close-on-exec fds are gone; the numbers may be reused by the new program */
	path_forget(e, (pid_t)x->h.pid, -1);
	if ((pid_t)x->h.pid == e->s->main_pid)
		e->s->main_execd = 1;
	rec_process(&e->s->ob, PK_EXEC, (pid_t)x->h.pid, (pid_t)x->h.tid, 0, x->old_tid, path);
}

static void on_gone(struct bpf_events *e, const struct vft_ev_gone *x)
{
	struct vft_session *s = e->s;
	pid_t pid = (pid_t)x->h.pid, tid = (pid_t)x->h.tid;
	struct tracee *t = tt_find(&s->tt, tid);
	if (t) {
		if (t->in_call) {
			t->call.flags |= IOF_NO_EXIT;
			write_call(e, t);
		}
		tt_remove(&s->tt, tid);
	}
	if (!x->group_dead)
		return;
	int code = x->exit_code;
	int exited = (code & 0x7f) == 0;
	int value = exited ? (code >> 8) & 0xff : code & 0x7f;
	rec_process(&s->ob, exited ? PK_EXIT : PK_KILLED, pid, pid, value, !exited && (code & 0x80) ? 1 : 0, NULL);
	path_forget(e, pid, -1);
	live_remove(e, pid);
	if (pid == s->main_pid) {
		e->main_gone = 1;
		if (!s->have_result) {
			s->have_result = 1;
			s->result.reason = exited ? VFT_END_EXITED : VFT_END_KILLED;
			s->result.status = value;
		}
	}
}

void events_handle(void *ctx, const void *rec, uint32_t len)
{
	struct bpf_events *e = ctx;
	const struct vft_ev_hdr *h = rec;
	if (len < sizeof(*h))
		return;
	switch (h->type) {
	case VFT_EV_ENTRY:
		if (len >= sizeof(struct vft_ev_entry))
			on_entry(e, rec, len);
		break;
	case VFT_EV_EXIT:
		if (len >= sizeof(struct vft_ev_exit))
			on_exit_call(e, rec, len);
		break;
	case VFT_EV_FORK:
		if (len >= sizeof(struct vft_ev_fork))
			on_fork(e, rec);
		break;
	case VFT_EV_EXEC:
		if (len >= sizeof(struct vft_ev_exec))
			on_exec(e, rec, len);
		break;
	case VFT_EV_SEEN:
		if (len >= sizeof(struct vft_ev_seen))
			on_seen(e, rec);
		break;
	case VFT_EV_GONE:
		if (len >= sizeof(struct vft_ev_gone))
			on_gone(e, rec);
		break;
	case VFT_EV_FD_PATH:
		if (len >= sizeof(struct vft_ev_fd_path)) {
			const struct vft_ev_fd_path *x = rec;
			uint32_t n = x->h.len <= len - sizeof(*x) ? x->h.len : len - (uint32_t)sizeof(*x);
			path_remember(e, (pid_t)h->pid, (int)x->fd, (const char *)(x + 1), n);
		}
		break;
	case VFT_EV_SIGNAL:
		if (len >= sizeof(struct vft_ev_signal))
			rec_process(&e->s->ob, PK_SIGNAL, (pid_t)h->pid, (pid_t)h->tid,
				    (int32_t)((const struct vft_ev_signal *)rec)->sig, 0, NULL);
		break;
	case VFT_EV_FD_GONE:
		if (len >= sizeof(struct vft_ev_fd_gone))
			path_forget(e, (pid_t)h->pid, (int)((const struct vft_ev_fd_gone *)rec)->fd);
		break;
	}
}

int events_init(struct bpf_events *e, struct vft_session *s, int targets_fd)
{
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->targets_fd = targets_fd;
	return 0;
}

void events_free(struct bpf_events *e)
{
	path_forget(e, 0, -1);
	for (size_t i = 0; i < e->npaths; i++)
		free(e->paths[i].path);
	free(e->paths);
	free(e->live);
	e->paths = NULL;
	e->live = NULL;
	e->npaths = e->nlive = 0;
}

int events_reap(struct bpf_events *e)
{
	struct vft_session *s = e->s;
	if (s->cfg.mode == VFT_MODE_SPAWN && !e->main_reaped) {
		int status;
		pid_t r = waitpid(s->main_pid, &status, WNOHANG);
		if (r == s->main_pid) {
			e->main_reaped = 1;
			/* the wait status is the truth; the exit event may not have been drained yet */
			s->have_result = 1;
			s->result.reason = WIFEXITED(status) ? VFT_END_EXITED : VFT_END_KILLED;
			s->result.status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
			if (WIFEXITED(status) && s->result.status == 127 && !s->main_execd)
				spawn_exec_error(s, s->result.text, sizeof(s->result.text));
		}
		return 0; /* drain once more before deciding */
	}
	if (s->cfg.mode == VFT_MODE_SPAWN && !e->main_reaped)
		return 0;
	live_prune(e);
	if (s->cfg.mode == VFT_MODE_ALL)
		return 0; /* until detached */
	return e->nlive == 0;
}

static void detached_threads(struct vft_session *s, pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid > 0)
			rec_process(&s->ob, PK_DETACHED, pid, tid, 0, 0, NULL);
	}
	closedir(d);
}

void events_finish(struct bpf_events *e, int detaching)
{
	struct vft_session *s = e->s;
	for (size_t i = 0; i < s->tt.cap; i++) {
		struct tracee *t = s->tt.slots[i];
		if (t && t->in_call) {
			t->call.flags |= IOF_NO_EXIT;
			write_call(e, t);
		}
	}
	if (detaching) {
		for (size_t i = 0; i < e->nlive; i++) {
			bpf_map_del(e->targets_fd, &e->live[i]);
			detached_threads(s, e->live[i]);
		}
		if (!s->have_result || (s->result.reason != VFT_END_EXITED && s->result.reason != VFT_END_KILLED))
			s->result.reason = VFT_END_DETACHED;
		s->have_result = 1;
	}
	if (!s->have_result) {
		s->result.reason = VFT_END_ERROR;
		snprintf(s->result.text, sizeof(s->result.text), "lost track of the traced processes");
	}
}

#endif
