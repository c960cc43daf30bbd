/* The public C ABI: session setup, the tracer thread, and the requests the
 * caller's thread may make of it (detach, signal, wait). */
#include "engine.h"
#include "build_id.h" /* generated: build/gen/, see Makefile */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Interrupts the tracer thread's blocking waitpid/write. SIGURG is ignored
 * by default, so a stray one anywhere in the process does no harm. */
#define VFT_WAKE_SIG SIGURG

void set_err(struct vft_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static void wake_handler(int sig) { (void)sig; }

static void install_wake_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler; /* no SA_RESTART: blocking calls return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(VFT_WAKE_SIG, &sa, NULL);
}

/* Every ptrace stop sends SIGCHLD to the tracer's process, and the kernel
 * hands it to a thread that does not block it (Node's main thread): two
 * wake-ups of the event loop per traced call. SA_NOCLDSTOP on the SIGCHLD
 * action suppresses stop notifications, ptrace ones included; the handler
 * (libuv's, or SIG_DFL) is kept and still runs when a child exits. waitpid
 * is woken either way. */
static void quiet_stop_signals(void)
{
	struct sigaction sa;
	if (sigaction(SIGCHLD, NULL, &sa) != 0 || sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDSTOP))
		return;
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

static void *tracer_main(void *arg)
{
	struct vft_session *s = arg;
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, VFT_WAKE_SIG);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	char pids[1024] = "";
	for (uint32_t i = 0; i < s->cfg.npids; i++) {
		size_t l = strlen(pids);
		snprintf(pids + l, sizeof(pids) - l, "%s%d", i ? "," : "", (int)s->pids[i]);
	}
	rec_header(&s->ob, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC), s->argv_blob ? s->argv_blob : "",
		   s->argv_len, pids, s->cfg.mode == VFT_MODE_ALL ? "all" : "", s->producer);
	int bpf = s->cfg.backend == VFT_BACKEND_BPF;
	int rc = bpf ? bpf_start(s) : s->cfg.mode == VFT_MODE_SPAWN ? spawn_start(s) : attach_start(s);

	pthread_mutex_lock(&s->mu);
	s->start_state = rc == 0 ? 1 : -1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);

	if (rc == 0 && bpf)
		bpf_loop(s);
	else if (rc == 0)
		event_loop(s);
	if (s->cfg.out_fd < 0)
		close(s->ob.fd); /* EOF for the reader */
	atomic_store(&s->finished, 1);
	return NULL;
}

static int rule_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct vft_rule *)a)->request, y = ((const struct vft_rule *)b)->request;
	return x < y ? -1 : x > y;
}

static size_t blob_len(const char *blob, uint32_t count)
{
	size_t o = 0;
	for (uint32_t i = 0; i < count; i++)
		o += strlen(blob + o) + 1;
	return o;
}

static void session_free(struct vft_session *s)
{
	if (!s)
		return;
	notify_free(s);
	free(s->argv_blob);
	free(s->env_blob);
	free(s->cwd);
	free(s->pids);
	free(s->rules);
	free(s->producer);
	ob_free(&s->ob);
	tt_free(&s->tt);
	if (s->exec_err_fd >= 0)
		close(s->exec_err_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static int copy_config(struct vft_session *s, const struct vft_config *c, char *err, size_t errlen)
{
	if (c->abi_version != VFT_ABI_VERSION) {
		snprintf(err, errlen, "invalid config: ABI version %u, expected %u", c->abi_version, VFT_ABI_VERSION);
		return -1;
	}
	if (c->mode == VFT_MODE_ALL) {
		if (c->backend != VFT_BACKEND_BPF) {
			snprintf(err, errlen, "invalid config: every-process mode needs the eBPF backend");
			return -1;
		}
	} else if (c->mode == VFT_MODE_SPAWN ? (!c->argv || c->argc == 0) : c->mode == VFT_MODE_ATTACH ? (!c->pids || c->npids == 0) : 1) {
		snprintf(err, errlen, "invalid config: %s", c->mode == VFT_MODE_ATTACH ? "no pids" : "no command");
		return -1;
	}
	if (c->ioctl_type < -1 || c->ioctl_type > 255) {
		snprintf(err, errlen, "invalid config: ioctl type %d", c->ioctl_type);
		return -1;
	}
	if (c->backend != VFT_BACKEND_PTRACE && c->backend != VFT_BACKEND_BPF) {
		snprintf(err, errlen, "invalid config: backend %d", c->backend);
		return -1;
	}
	if (c->backend == VFT_BACKEND_BPF && c->verdict_fd >= 0) {
		snprintf(err, errlen, "invalid config: emulation changes results, which only the ptrace backend can do");
		return -1;
	}
	if (c->notify_type && ((c->notify_type & ~0xffu) != VFT_NOTIFY_ON || c->mode != VFT_MODE_SPAWN || c->backend != VFT_BACKEND_PTRACE || c->verdict_fd >= 0)) {
		snprintf(err, errlen, "invalid config: a seccomp listener answers a spawned command's calls, under ptrace, without a verdict pipe");
		return -1;
	}
	s->cfg = *c;
	s->cap = c->payload_cap < VFT_MAX_PAYLOAD_CAP ? c->payload_cap : VFT_MAX_PAYLOAD_CAP;
	if (c->argv) {
		s->argv_len = blob_len(c->argv, c->argc);
		s->argv_blob = malloc(s->argv_len + 1);
		if (s->argv_blob) {
			memcpy(s->argv_blob, c->argv, s->argv_len);
			s->argv_blob[s->argv_len] = '\0';
		}
	}
	if (c->envp) {
		s->env_len = blob_len(c->envp, c->envc);
		s->env_blob = malloc(s->env_len + 1);
		if (s->env_blob)
			memcpy(s->env_blob, c->envp, s->env_len);
	}
	if (c->cwd)
		s->cwd = strdup(c->cwd);
	if (c->npids) {
		s->pids = calloc(c->npids, sizeof(int32_t));
		if (s->pids)
			memcpy(s->pids, c->pids, c->npids * sizeof(int32_t));
		for (uint32_t i = 0; s->pids && i < c->npids; i++) {
			if (s->pids[i] <= 0) {
				snprintf(err, errlen, "invalid config: pid %d", (int)s->pids[i]);
				return -1;
			}
		}
	}
	s->rules = calloc(c->nrules ? c->nrules : 1, sizeof(struct vft_rule));
	if (s->rules && c->nrules) {
		memcpy(s->rules, c->rules, c->nrules * sizeof(struct vft_rule));
		qsort(s->rules, c->nrules, sizeof(struct vft_rule), rule_cmp);
	}
	/* Emulation reads each call whole (up to its rule's cap), whatever -s
	 * says: the payload buffers must hold the largest rule. */
	s->read_cap = s->cap;
	for (uint32_t i = 0; s->rules && (c->verdict_fd >= 0 || c->notify_type) && i < c->nrules; i++) {
		uint32_t rc = s->rules[i].cap < VFT_MAX_PAYLOAD_CAP ? s->rules[i].cap : VFT_MAX_PAYLOAD_CAP;
		if (rc > s->read_cap)
			s->read_cap = rc;
	}
	s->producer = strndup(c->producer ? c->producer : "vftrace", 200);
	if ((c->argv && !s->argv_blob) || (c->envp && !s->env_blob) || (c->cwd && !s->cwd) ||
	    (c->npids && !s->pids) || !s->rules || !s->producer) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct vft_session *vft_start(const struct vft_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	struct vft_session *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->exec_err_fd = -1;
	s->spawn_go_fd = -1;
	s->read_fd = -1;
	atomic_init(&s->refs, 1);
	if (!cfg || copy_config(s, cfg, err, errlen) != 0) {
		if (!cfg)
			snprintf(err, errlen, "invalid config: none given");
		session_free(s);
		return NULL;
	}
	int out = cfg->out_fd;
	if (out < 0) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0) {
			snprintf(err, errlen, "pipe: %s", strerror(errno));
			session_free(s);
			return NULL;
		}
		/* a big pipe lets the tracer run ahead of a briefly busy reader */
		fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
		s->read_fd = p[0];
		out = p[1];
	}
	if (ob_init(&s->ob, out, 256 * 1024) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail_fds;
	}
	s->ob.wake = &s->wake_req;
	s->ob.ack = &s->detach_ack;
	install_wake_handler();
	quiet_stop_signals();
	if (pthread_create(&s->thread, NULL, tracer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the tracer thread: %s", strerror(errno));
		goto fail_fds;
	}
	s->thread_started = 1;
	pthread_mutex_lock(&s->mu);
	while (s->start_state == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->start_state < 0) {
		pthread_join(s->thread, NULL);
		snprintf(err, errlen, "%s", s->err);
		if (s->read_fd >= 0)
			close(s->read_fd);
		session_free(s);
		return NULL;
	}
	return s;

fail_fds:
	if (cfg->out_fd < 0) {
		close(s->read_fd);
		close(out);
	}
	session_free(s);
	return NULL;
}

int vft_read_fd(const struct vft_session *s) { return s ? s->read_fd : -1; }

int vft_main_pid(const struct vft_session *s) { return s ? (int)s->main_pid : -1; }

/* Sets a request for the tracer thread and wakes it (SIGURG) until it says
 * it has seen it: a signal that lands just before it blocks in waitpid
 * would otherwise be lost. */
static void request(struct vft_session *s, atomic_int *flag, int value)
{
	atomic_store(flag, value);
	atomic_store(&s->wake_req, 1);
	for (int i = 0; i < 5000 && !atomic_load(&s->detach_ack) && !atomic_load(&s->finished); i++) {
		pthread_kill(s->thread, VFT_WAKE_SIG);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

int vft_end(struct vft_session *s, int sig)
{
	if (!s || atomic_load(&s->finished))
		return -1;
	if (s->cfg.mode != VFT_MODE_SPAWN) {
		request(s, &s->detach_req, 1);
		return 0;
	}
	if (sig <= 0 || sig >= NSIG)
		sig = SIGTERM;
	/* a later, harder request (SIGKILL) replaces a softer one */
	int cur = atomic_load(&s->end_sig);
	if (cur == 0 || sig == SIGKILL)
		atomic_store(&s->end_sig, sig);
	atomic_store(&s->detach_ack, 0);
	request(s, &s->end_sig, atomic_load(&s->end_sig));
	return 0;
}

int vft_detach(struct vft_session *s)
{
	if (!s || atomic_load(&s->finished))
		return -1;
	/* A spawned command is never let go: its seccomp filter would make its
	 * matching ioctls fail with ENOSYS with nobody to trace them. */
	if (s->cfg.mode == VFT_MODE_SPAWN)
		return vft_end(s, SIGTERM);
	request(s, &s->detach_req, 1);
	return 0;
}

int vft_signal(struct vft_session *s, int sig)
{
	if (!s || s->main_pid <= 0)
		return -ESRCH;
	return kill(s->main_pid, sig) == 0 ? 0 : -errno;
}

int vft_wait(struct vft_session *s, struct vft_result *out)
{
	if (!s)
		return -EINVAL;
	if (s->thread_started) {
		pthread_join(s->thread, NULL);
		s->thread_started = 0;
	}
	if (out)
		*out = s->result;
	return 0;
}

void vft_free(struct vft_session *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		vft_detach(s);
		pthread_join(s->thread, NULL);
		s->thread_started = 0;
	}
	session_unref(s);
}

/* The last of vft_free and vft_notify_close frees the session. */
void session_unref(struct vft_session *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		session_free(s);
}

const char *vft_version(void) { return "vftrace 1"; }

const char *vft_build_id(void) { return VFT_BUILD_ID; }
