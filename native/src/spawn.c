/* Spawn mode: fork, let the tracer seize the child, then the child installs
 * the seccomp filter and execs. Everything the child does between fork and
 * exec is async-signal-safe (the parent process is multi-threaded). */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What the child writes on its CLOEXEC error pipe when it cannot exec. */
struct child_err {
	int stage; /* 0 exec, 1 chdir, 2 seccomp */
	int err;
};

static char **split(const char *blob, size_t len, uint32_t count)
{
	char **v = calloc((size_t)count + 1, sizeof(char *));
	if (!v)
		return NULL;
	size_t o = 0;
	for (uint32_t i = 0; i < count && o < len; i++) {
		v[i] = (char *)blob + o;
		o += strlen(blob + o) + 1;
	}
	return v;
}

/* Hands the seccomp listener to the tracer over sock (SCM_RIGHTS). */
static int send_fd(int sock, int fd)
{
	char byte = 'l';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -errno;
}

static void child_fail(int fd, int stage, int err)
{
	struct child_err ce = {stage, err};
	ssize_t n = write(fd, &ce, sizeof(ce));
	(void)n;
	_exit(127);
}

/* Installs the seccomp filter in the child; with a listener (sock >= 0)
 * sends it to the tracer and keeps no copy: a client holding it would keep
 * it open after its last caller. */
static void child_filter(struct vft_session *s, int err_fd, int sock)
{
	int listener = -1;
	int rc = filter_install(s->cfg.ioctl_type, sock >= 0 ? (int)(s->cfg.notify_type & 0xff) : -1, &listener);
	if (rc == 0 && sock >= 0)
		rc = send_fd(sock, listener);
	if (rc != 0)
		child_fail(err_fd, 2, -rc);
	if (listener >= 0)
		close(listener);
}

/* Without the go byte the child exits 127 on its own: reap it. */
static void spawn_abandon(struct vft_session *s)
{
	close(s->spawn_go_fd);
	s->spawn_go_fd = -1;
	waitpid(s->main_pid, NULL, __WALL);
}

/* Forks the command, stopped before exec until spawn_release: the backend
 * gets hold of it first (PTRACE_SEIZE, or the eBPF targets map). Sets
 * main_pid and exec_err_fd. */
int spawn_child(struct vft_session *s)
{
	char **argv = split(s->argv_blob, s->argv_len, s->cfg.argc);
	char **envp = s->env_blob ? split(s->env_blob, s->env_len, s->cfg.envc) : environ;
	int go[2], ep[2], lp[2] = {-1, -1};
	if (!argv || !envp) {
		set_err(s, "out of memory");
		return -1;
	}
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
		set_err(s, "pipe: %s", strerror(errno));
		return -1;
	}
	/* The seccomp filter is the ptrace backend's: the eBPF one stops nothing. */
	int filter = s->cfg.backend == VFT_BACKEND_PTRACE;
	int notify = filter && s->cfg.notify_type;
	if (notify && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lp) != 0) {
		set_err(s, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		set_err(s, "fork: %s", strerror(errno));
		if (notify) {
			close(lp[0]);
			close(lp[1]);
		}
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Node ignores SIGPIPE; the traced command should not inherit that. */
		signal(SIGPIPE, SIG_DFL);
		/* Node marks its stdio close-on-exec; the command must still get them. */
		for (int fd = 0; fd <= 2; fd++) {
			int fl = fcntl(fd, F_GETFD);
			if (fl >= 0 && (fl & FD_CLOEXEC))
				fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
		}
		close(go[1]);
		close(ep[0]);
		/* The listener goes to the tracer before it takes hold of us: a
		 * signal to a seized child would stop it for a tracer still
		 * waiting for the listener. Its filter's traced calls are none
		 * of read, chdir and exec. */
		if (notify)
			child_filter(s, ep[1], lp[1]);
		char c;
		ssize_t r;
		do
			r = read(go[0], &c, 1);
		while (r < 0 && errno == EINTR);
		if (r != 1)
			_exit(127); /* the tracer gave up before taking hold of us */
		if (s->cwd && chdir(s->cwd) != 0)
			child_fail(ep[1], 1, errno);
		if (filter && !notify)
			child_filter(s, ep[1], -1);
		execvpe(argv[0], argv, envp);
		child_fail(ep[1], 0, errno);
	}
	close(go[0]);
	close(ep[1]);
	free(argv);
	if (envp != environ)
		free(envp);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	s->exec_err_fd = ep[0];
	s->spawn_go_fd = go[1];
	s->main_pid = pid;
	if (notify) {
		close(lp[1]);
		int rc = notify_receive(s, lp[0]);
		close(lp[0]);
		if (rc != 0) {
			spawn_abandon(s);
			return -1;
		}
	}
	return 0;
}

/* Lets the command go on to exec. */
void spawn_release(struct vft_session *s)
{
	if (s->spawn_go_fd < 0)
		return;
	ssize_t w = write(s->spawn_go_fd, "g", 1);
	(void)w;
	close(s->spawn_go_fd);
	s->spawn_go_fd = -1;
}


int spawn_start(struct vft_session *s)
{
	if (spawn_child(s) != 0)
		return -1;
	pid_t pid = s->main_pid;
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		    PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)opts) != 0) {
		int e = errno;
		spawn_abandon(s);
		set_err(s, "cannot trace the command: ptrace: %s", strerror(e));
		return -1;
	}
	spawn_release(s);
	struct tracee *t = tt_add(&s->tt, pid);
	if (!t) {
		set_err(s, "out of memory");
		kill(pid, SIGKILL);
		return -1;
	}
	t->pid = pid;
	t->report = 1;
	t->announced = 1;
	rec_process(&s->ob, PK_START, pid, pid, 0, (uint32_t)getpid(), s->argv_blob);
	notify_learn(s, pid, pid, 0);
	return 0;
}

/* After the main child exited 127 without exec'ing: the reason, if it sent one. */
void spawn_exec_error(struct vft_session *s, char *buf, size_t len)
{
	struct child_err ce;
	buf[0] = '\0';
	if (s->exec_err_fd < 0 || read(s->exec_err_fd, &ce, sizeof(ce)) != (ssize_t)sizeof(ce))
		return;
	static const char *what[] = {"exec", "chdir", "seccomp filter"};
	const char *arg = ce.stage == 1 ? s->cwd : s->argv_blob;
	if (ce.stage == 2)
		snprintf(buf, len, "%s: %s", what[2], strerror(ce.err));
	else
		snprintf(buf, len, "%s %s: %s", what[ce.stage == 1], arg ? arg : "", strerror(ce.err));
}
