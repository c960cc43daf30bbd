/* The answering thread's side of the seccomp listener (notify.c says how
 * it works): vft_notify_next hands out one notice at a time,
 * vft_notify_answer applies the verdict and records the call. */
#include "notify.h"
#include "../include/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

_Static_assert(sizeof(struct vft_notice) == VFT_NOTICE_HEADER_LEN, "notice header size");

static uint32_t pad8(uint32_t n) { return (n + 7) & ~7u; }

static struct fork_event pop_event(struct notifier *n)
{
	struct fork_event f = n->forks[0];
	memmove(n->forks, n->forks + 1, --n->nforks * sizeof(*n->forks));
	return f;
}

static int fork_notice(struct fork_event f, uint8_t *msg)
{
	struct vft_notice h = {
		.kind = VFT_NOTICE_FORK,
		.len = VFT_NOTICE_HEADER_LEN,
		.pid = (uint32_t)f.child,
		.tid = (uint32_t)f.child,
		.parent = (uint32_t)f.parent,
	};
	memcpy(msg, &h, sizeof(h));
	return VFT_NOTICE_HEADER_LEN;
}

int notify_due_fork(struct notifier *n, uint8_t *msg)
{
	for (;;) {
		pthread_mutex_lock(&n->mu);
		int any = n->nforks > 0;
		struct fork_event f = any ? pop_event(n) : (struct fork_event){0, 0};
		pthread_mutex_unlock(&n->mu);
		if (!any)
			return 0;
		if (f.parent > 0)
			return fork_notice(f, msg);
		peer_files_drop(&n->files, f.child);
	}
}

/* ioctl(2) on the listener, again when a signal interrupted it. */
static int listener_ioctl(struct notifier *n, unsigned long req, void *arg)
{
	int rc;
	do
		rc = ioctl(n->listener, req, arg);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Records wait this long for more before they are written out: in a burst
 * the next call comes within microseconds, and a write per call (plus the
 * reader's wake-up) would double its cost. */
#define FLUSH_AFTER_MS 1

/* 1: a call received into *out; 0: nothing (timeout, wake, a caller gone);
 * -EPIPE: over (no process left to call); other -errno: the listener failed. */
static int receive(struct vft_session *s, struct notifier *n, struct seccomp_notif *out, int timeout_ms)
{
	/* In a burst the next call is already waiting: the listener alone,
	 * without a timeout, is the cheapest look. A pending wake goes first. */
	struct pollfd q = {n->listener, POLLIN, 0};
	if (!atomic_load(&n->woken) && poll(&q, 1, 0) == 1 && (q.revents & POLLIN))
		goto take;
	struct pollfd p[2] = {{n->listener, POLLIN, 0}, {n->wake, POLLIN, 0}};
	int r = poll(p, 2, s->ob.len > 0 && timeout_ms > FLUSH_AFTER_MS ? FLUSH_AFTER_MS : 0);
	if (r == 0) {
		ob_flush(&s->ob); /* never sit on records while blocked */
		r = poll(p, 2, timeout_ms);
	}
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents & POLLIN) {
		uint64_t v;
		atomic_store(&n->woken, 0);
		ssize_t k = read(n->wake, &v, sizeof(v));
		(void)k;
		return 0;
	}
	if (!(p[0].revents & POLLIN))
		return (p[0].revents & (POLLHUP | POLLERR)) || atomic_load(&s->finished) ? -EPIPE : 0;
take:
	memset(out, 0, sizeof(*out));
	if (ioctl(n->listener, SECCOMP_IOCTL_NOTIF_RECV, out) != 0)
		return errno == ENOENT || errno == EINTR ? 0 : -errno; /* ENOENT: the caller went meanwhile */
	return 1;
}

/* The CALL notice of a received call: its fd path and argument, read now. */
static int call_notice(struct vft_session *s, struct notifier *n, const struct seccomp_notif *sn, uint8_t *msg)
{
	struct call *c = &n->call;
	c->t_entry = now_ns(CLOCK_MONOTONIC);
	c->fd = sn->data.args[0];
	c->request = sn->data.args[1];
	c->arg = sn->data.args[2];
	c->emu = 0;
	n->tid = (pid_t)sn->pid;
	n->pid = notify_pid_of(n, n->tid);
	n->file = peer_file_of(n, n->pid, n->tid, c->fd, c);
	n->rule = rule_find(s->rules, s->cfg.nrules, (uint32_t)c->request);
	capture_entry(n->tid, c, n->rule, s->cap, 1);
	/* What was read belongs to this call only if it is still waiting. */
	uint64_t id = sn->id;
	if (listener_ioctl(n, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
		return 0; /* the caller is gone: nothing to answer */
	n->id = sn->id;
	n->in_call = 1;
	uint32_t len = pad8(VFT_NOTICE_HEADER_LEN + pad8(c->path_len) + c->in_len);
	struct vft_notice h = {
		.kind = VFT_NOTICE_CALL,
		.len = len,
		.pid = (uint32_t)n->pid,
		.tid = (uint32_t)n->tid,
		.in_len = c->in_len,
		.in_fault = (c->flags & IOF_IN_FAULT) ? c->in_fault : VFT_NOTICE_NO_FAULT,
		.path_len = c->path_len,
		.fd = c->fd,
		.request = c->request,
		.arg = c->arg,
		.file = n->file,
	};
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + VFT_NOTICE_HEADER_LEN, c->path, c->path_len);
	memcpy(msg + VFT_NOTICE_HEADER_LEN + pad8(c->path_len), c->in, c->in_len);
	return (int)len;
}

int vft_notify_next(int h, uint8_t *msg, uint32_t cap, int timeout_ms)
{
	struct vft_session *s = notify_handle(h);
	if (!s)
		return -EBADF;
	struct notifier *n = s->notify;
	if (!msg || cap < VFT_NOTICE_HEADER_LEN + sizeof(n->call.path) + s->read_cap)
		return -ENOBUFS;
	if (n->in_call) {
		/* never left unanswered: the kernel runs it */
		static const uint8_t run[VFT_VERDICT_HEADER_LEN] = {0x56, 0x46, 0x54, 0x56};
		vft_notify_answer(h, run, sizeof(run));
	}
	int len = notify_due_fork(n, msg);
	if (len)
		return len;
	struct seccomp_notif sn;
	if (n->have_stash) {
		sn = n->stash;
		n->have_stash = 0;
	} else {
		int r = receive(s, n, &sn, timeout_ms);
		if (r <= 0)
			return r;
		/* The caller's process, met now if the tracer has not told of it
		 * yet; its FORK, or one the tracer saw meanwhile, goes first. */
		notify_pid_of(n, (pid_t)sn.pid);
		len = notify_due_fork(n, msg);
		if (len) {
			n->stash = sn;
			n->have_stash = 1;
			return len;
		}
	}
	return call_notice(s, n, &sn, msg);
}

/* Sends the answer and records the call, under the stream's lock: the
 * thread runs on once answered, and its next events must follow this
 * record. An fd that cannot be installed (the caller is at its fd limit)
 * is the call's error, as for the kernel's get_unused_fd. Returns 0 or
 * -errno from the listener (ENOENT: the caller went before its answer). */
static int send_and_record(struct vft_session *s, struct notifier *n, struct seccomp_notif_resp *resp,
			   struct seccomp_notif_addfd *addfd)
{
	struct call *c = &n->call;
	pthread_mutex_lock(&s->ob.mu);
	int rc = addfd ? listener_ioctl(n, SECCOMP_IOCTL_NOTIF_ADDFD, addfd) : listener_ioctl(n, SECCOMP_IOCTL_NOTIF_SEND, resp);
	int err = rc < 0 ? errno : 0;
	if (addfd && rc >= 0)
		c->ret = rc; /* the fd the caller got */
	if (addfd && rc < 0 && err != ENOENT) {
		struct seccomp_notif_resp fail = {.id = addfd->id, .error = -err};
		c->ret = -err;
		rc = listener_ioctl(n, SECCOMP_IOCTL_NOTIF_SEND, &fail);
		err = rc < 0 ? errno : 0;
	}
	if (rc < 0 || (resp && (resp->flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE))) {
		/* gone before the answer, or the kernel runs it: no exit seen */
		c->flags |= IOF_NO_EXIT;
		c->t_exit = 0;
		c->ret = 0;
		c->out_len = 0;
	}
	if (!s->ob.sealed)
		atomic_fetch_add(&n->events, 1);
	rec_ioctl(&s->ob, n->pid, n->tid, c);
	pthread_mutex_unlock(&s->ob.mu);
	return -err;
}

void notify_let_run(struct vft_session *s)
{
	struct notifier *n = s->notify;
	if (n->in_call) {
		n->in_call = 0;
		struct seccomp_notif_resp resp = {.id = n->id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
		send_and_record(s, n, &resp, NULL);
	}
	if (n->have_stash) {
		n->have_stash = 0;
		struct seccomp_notif_resp resp = {.id = n->stash.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
		listener_ioctl(n, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

int vft_notify_answer(int h, const uint8_t *verdict, uint32_t len)
{
	struct vft_session *s = notify_handle(h);
	if (!s)
		return -EBADF;
	struct notifier *n = s->notify;
	if (!n->in_call)
		return -EINVAL;
	n->in_call = 0;
	struct call *c = &n->call;
	struct verdict_msg v;
	int bad = !verdict || len < VFT_VERDICT_HEADER_LEN ||
		  verdict_parse(verdict, verdict + VFT_VERDICT_HEADER_LEN, len - VFT_VERDICT_HEADER_LEN, &v) < 0;
	if (bad)
		v.action = VFT_VERDICT_RUN;
	capture_trim(c, n->rule, s->cap);
	struct seccomp_notif_resp resp = {.id = n->id};
	if (v.action == VFT_VERDICT_RUN) {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		int rc = send_and_record(s, n, &resp, NULL);
		return bad ? -EINVAL : rc;
	}
	c->flags |= VFT_IOF_EMULATED;
	if (v.action == VFT_VERDICT_OPENAT) {
		char path[4096];
		memcpy(path, v.path, v.path_len);
		path[v.path_len] = '\0';
		int fd = open(path, (int)(v.open_flags | O_CLOEXEC));
		if (fd < 0) {
			resp.error = -errno;
			c->ret = resp.error;
			c->t_exit = now_ns(CLOCK_MONOTONIC);
			return send_and_record(s, n, &resp, NULL);
		}
		struct seccomp_notif_addfd addfd = {
			.id = n->id,
			.flags = SECCOMP_ADDFD_FLAG_SEND,
			.srcfd = (uint32_t)fd,
			.newfd_flags = v.open_flags & O_CLOEXEC,
		};
		c->t_exit = now_ns(CLOCK_MONOTONIC);
		capture_exit(n->tid, c);
		int rc = send_and_record(s, n, NULL, &addfd);
		close(fd);
		return rc;
	}
	int faulted;
	int64_t ret = verdict_write(n->tid, &v, &faulted);
	c->ret = ret;
	if (!faulted && c->kind != VFT_RULE_CSTRING && c->in_len) {
		/* what the memory holds now, without reading it back */
		memcpy(c->out, c->in, c->in_len);
		verdict_overlay(&v, c->arg, c->out, c->in_len);
		c->out_len = c->in_len;
	} else {
		capture_exit(n->tid, c);
	}
	c->t_exit = now_ns(CLOCK_MONOTONIC);
	if (ret < 0)
		resp.error = (int32_t)ret;
	else
		resp.val = ret;
	return send_and_record(s, n, &resp, NULL);
}

int vft_notify_answer_next(int h, const uint8_t *verdict, uint32_t len, uint8_t *msg, uint32_t cap, int timeout_ms)
{
	vft_notify_answer(h, verdict, len);
	return vft_notify_next(h, msg, cap, timeout_ms);
}
