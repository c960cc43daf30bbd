/* Emulation through a seccomp listener (include/verdict.h, "Notices").
 *
 * The spawned command's filter hands ioctls of one type byte to a listener
 * instead of stopping the thread for ptrace: the caller's answering thread
 * takes each call (vft_notify_next), reads its argument with
 * process_vm_readv, decides, and answers (vft_notify_answer) with a verdict
 * message, which is applied here: blocks copied into the caller, the return
 * value sent, or a file opened here and installed in the caller
 * (SECCOMP_IOCTL_NOTIF_ADDFD). No ptrace stop, no pipe round trip: a call
 * costs the listener's two context switches. The completed call goes into
 * the session's stream as an IOCTL record, like a stopped one.
 *
 * The tracer thread still ptraces the command for everything else (forks,
 * execs, exits, other captured calls). It tells this side, in order, which
 * thread belongs to which process and which process was forked from which
 * (notify_learn): a forked child's FORK notice is handed out before any of
 * its calls, because the child runs only once the tracer has seen it. */
#include "notify.h"
#include "../include/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- handles: small integers the caller's threads pass around ---- */

#define MAX_HANDLES 64
static pthread_mutex_t handles_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vft_session *handles[MAX_HANDLES];

struct vft_session *notify_handle(int h)
{
	if (h < 0 || h >= MAX_HANDLES)
		return NULL;
	pthread_mutex_lock(&handles_mu);
	struct vft_session *s = handles[h];
	pthread_mutex_unlock(&handles_mu);
	return s && s->notify ? s : NULL;
}

/* ---- what the tracer thread tells ---- */

static size_t slot_of(const struct notifier *n, pid_t tid)
{
	return ((uint32_t)tid * 2654435761u) & (n->threads_cap - 1);
}

static void threads_put(struct notifier *n, pid_t tid, pid_t pid)
{
	if ((n->nthreads + 1) * 2 > n->threads_cap) {
		size_t cap = n->threads_cap ? n->threads_cap * 2 : 64;
		struct tid_pid *old = n->threads, *t = calloc(cap, sizeof(*t));
		if (!t)
			return; /* looked up in /proc instead */
		size_t old_cap = n->threads_cap;
		n->threads = t;
		n->threads_cap = cap;
		n->nthreads = 0;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].tid)
				threads_put(n, old[i].tid, old[i].pid);
		free(old);
	}
	size_t i = slot_of(n, tid);
	while (n->threads[i].tid && n->threads[i].tid != tid)
		i = (i + 1) & (n->threads_cap - 1);
	if (!n->threads[i].tid)
		n->nthreads++;
	n->threads[i] = (struct tid_pid){tid, pid};
}

static pid_t threads_get(const struct notifier *n, pid_t tid)
{
	if (!n->threads_cap)
		return 0;
	for (size_t i = slot_of(n, tid); n->threads[i].tid; i = (i + 1) & (n->threads_cap - 1))
		if (n->threads[i].tid == tid)
			return n->threads[i].pid;
	return 0;
}

/* Under n->mu. */
static void queue_event(struct notifier *n, pid_t child, pid_t parent)
{
	if (n->nforks == n->forks_cap) {
		size_t cap = n->forks_cap ? n->forks_cap * 2 : 16;
		struct fork_event *f = realloc(n->forks, cap * sizeof(*f));
		if (!f)
			return;
		n->forks = f;
		n->forks_cap = cap;
	}
	n->forks[n->nforks++] = (struct fork_event){child, parent};
}

/* Under n->mu: a thread met; a process met for the first time is told of
 * once, forked from `parent` (0: the command itself, nothing to tell). */
static void meet(struct notifier *n, pid_t tid, pid_t pid, pid_t parent)
{
	int known = threads_get(n, pid) == pid;
	threads_put(n, tid, pid);
	if (tid != pid)
		threads_put(n, pid, pid);
	if (!known && parent > 0)
		queue_event(n, pid, parent);
}

void notify_learn(struct vft_session *s, pid_t tid, pid_t pid, pid_t parent)
{
	struct notifier *n = s->notify;
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	/* a reused tid takes its new owner: the thread is announced before it
	 * runs, or met by the answering thread first (notify_pid_of) */
	meet(n, tid, pid, tid == pid ? parent : 0);
	pthread_mutex_unlock(&n->mu);
}

void notify_forget(struct vft_session *s, pid_t tid, pid_t pid)
{
	struct notifier *n = s->notify;
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	if (threads_get(n, tid))
		threads_put(n, tid, 0);
	if (tid == pid)
		queue_event(n, pid, 0); /* its open files can go */
	pthread_mutex_unlock(&n->mu);
}

/* Tgid and PPid of a thread from /proc (0 when gone). */
static void proc_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char p[64], line[128];
	*tgid = *ppid = 0;
	snprintf(p, sizeof(p), "/proc/%d/status", (int)tid);
	FILE *f = fopen(p, "re");
	while (f && fgets(line, sizeof(line), f) && !(*tgid && *ppid))
		if (sscanf(line, "Tgid: %d", tgid) != 1)
			sscanf(line, "PPid: %d", ppid);
	if (f)
		fclose(f);
}

/* The process of a calling thread: as the tracer told, else from /proc. A
 * child the tracer resumed before it saw the fork (its first stop can come
 * before its parent's fork event) is met here, and its FORK queued. */
pid_t notify_pid_of(struct notifier *n, pid_t tid)
{
	pthread_mutex_lock(&n->mu);
	pid_t pid = threads_get(n, tid);
	pthread_mutex_unlock(&n->mu);
	if (pid > 0)
		return pid;
	pid_t ppid;
	proc_ids(tid, &pid, &ppid);
	if (pid <= 0)
		return tid;
	pthread_mutex_lock(&n->mu);
	meet(n, tid, pid, threads_get(n, ppid) == ppid ? ppid : 0);
	pthread_mutex_unlock(&n->mu);
	return pid;
}

/* ---- setup ---- */

int notify_receive(struct vft_session *s, int sock)
{
	int listener = -1;
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t r;
	do
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	struct cmsghdr *c = r == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&listener, CMSG_DATA(c), sizeof(int));
	if (listener < 0) {
		char why[200];
		spawn_exec_error(s, why, sizeof(why));
		set_err(s, "no seccomp listener: %s", why[0] ? why : "the command ended before installing its filter");
		return -1;
	}
	struct notifier *n = calloc(1, sizeof(*n));
	if (n) {
		n->call.in = malloc(s->read_cap ? s->read_cap : 1);
		n->call.out = malloc(s->read_cap ? s->read_cap : 1);
		n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	if (!n || !n->call.in || !n->call.out || n->wake < 0) {
		if (n) {
			free(n->call.in);
			free(n->call.out);
			if (n->wake >= 0)
				close(n->wake);
		}
		free(n);
		close(listener);
		set_err(s, "out of memory");
		return -1;
	}
	n->listener = listener;
	/* Caller and answerer hand the CPU to each other at every call: wake
	 * each on the waker's CPU (Linux 6.6; older kernels answer as well,
	 * a little slower). */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	n->scratch.fd_dir = -1;
	pthread_mutex_init(&n->mu, NULL);
	s->notify = n;
	return 0;
}

void notify_free(struct vft_session *s)
{
	struct notifier *n = s->notify;
	if (!n)
		return;
	close(n->listener);
	close(n->wake);
	fd_dir_close(&n->scratch);
	free(n->forks);
	free(n->threads);
	free(n->call.in);
	free(n->call.out);
	peer_files_free(&n->files);
	pthread_mutex_destroy(&n->mu);
	free(n);
	s->notify = NULL;
}

uint64_t notify_events(const struct vft_session *s)
{
	return s->notify ? atomic_load(&s->notify->events) : 0;
}

int vft_notify_open(struct vft_session *s)
{
	if (!s || !s->notify)
		return -ENODEV;
	pthread_mutex_lock(&handles_mu);
	int h = -EMFILE;
	for (int i = 0; i < MAX_HANDLES && h < 0; i++)
		if (!handles[i]) {
			handles[i] = s;
			atomic_fetch_add(&s->refs, 1);
			h = i;
		}
	pthread_mutex_unlock(&handles_mu);
	return h;
}

void vft_notify_close(int h)
{
	if (h < 0 || h >= MAX_HANDLES)
		return;
	pthread_mutex_lock(&handles_mu);
	struct vft_session *s = handles[h];
	handles[h] = NULL;
	pthread_mutex_unlock(&handles_mu);
	if (!s)
		return;
	notify_let_run(s);
	session_unref(s);
}

int vft_notify_wake(int h)
{
	if (h < 0 || h >= MAX_HANDLES)
		return -EBADF;
	/* under the table's lock: a close on the answering thread cannot free
	 * the session meanwhile */
	pthread_mutex_lock(&handles_mu);
	struct vft_session *s = handles[h];
	uint64_t one = 1;
	if (s && s->notify)
		atomic_store(&s->notify->woken, 1);
	int rc = !s || !s->notify ? -EBADF : write(s->notify->wake, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
	pthread_mutex_unlock(&handles_mu);
	return rc;
}

