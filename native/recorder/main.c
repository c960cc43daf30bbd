/* vfiotrace-record: the tracer engine as a standalone, static program for
 * hosts without Node (docs/power.md). It writes the same recording format
 * as `vfiotrace -w`; the capture rules are compiled in (rules.h).
 *
 *   vfiotrace-record -o FILE [-s BYTES] [-f] [--all-ioctls] -p PID [-p PID…]
 *   vfiotrace-record -o FILE [-s BYTES] [-f] [--all-ioctls] [--] CMD [ARGS…]
 */
#include "recorder.h"
#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PIDS 256

static const char usage_text[] =
	"usage: vfiotrace-record -o FILE [-s BYTES] [-f] [--all-ioctls] [--backend NAME] [--] COMMAND [ARGS...]\n"
	"       vfiotrace-record -o FILE [-s BYTES] [-f] [--all-ioctls] [--backend NAME] -p PID [-p PID...]\n"
	"\n"
	"Record the VFIO and iommufd ioctls of a command or of running processes\n"
	"into FILE. Decode it anywhere with\n"
	"`vfiotrace show FILE`, `vfiotrace tui FILE` or `vfiotrace audit FILE`.\n"
	"\n"
	"  -o, --output FILE       where to write the recording (required)\n"
	"  -s, --payload-cap BYTES capture at most BYTES of each ioctl argument\n"
	"                          (4096; 0 captures nothing; at most 64 MiB)\n"
	"  -f, --follow-forks      also record children the command forks\n"
	"      --all-ioctls        stop on every ioctl, not only VFIO/iommufd ones\n"
	"  -p, --attach PID        attach to a running process (repeatable)\n"
	"      --backend NAME      ptrace (the default: stop on each call) or bpf\n"
	"                          (copy calls in the kernel, never stop; root)\n"
	"  -h, --help              this text\n"
	"      --version           producer, capture-rule table, engine build id\n"
	"\n"
	"SIGINT, SIGTERM and SIGHUP detach from attached processes, or are passed\n"
	"on to a spawned command. Exit status: the command's (128+N if killed by\n"
	"signal N); 0 after a detach; 2 on usage or tracer errors.\n";

static int self_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t n = write(self_pipe[1], &b, 1);
	(void)n;
	errno = saved;
}

/* The engine writes into a pipe; this thread moves the bytes to FILE. A
 * write per record straight into a file costs tens of microseconds on a
 * journaling file system while the tracee sits stopped; through the pipe the
 * tracer only waits when the copier falls a whole pipe (1 MiB) behind, and a
 * busy session is written in large chunks. A write error (disk full) is kept
 * and reported; the copier then drains without writing so the tracee never
 * blocks on it. */
struct copier {
	int in, out;
	int err; /* first write errno, 0 if none */
	pthread_t thread;
};

static void *copy_thread(void *arg)
{
	struct copier *c = arg;
	static uint8_t buf[1 << 20];
	for (;;) {
		ssize_t n = read(c->in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t o = 0; o < n && !c->err;) {
			ssize_t w = write(c->out, buf + o, (size_t)(n - o));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				c->err = w < 0 ? errno : EIO;
			else
				o += w;
		}
	}
	close(c->in);
	return NULL;
}

struct waiter {
	struct vft_session *s;
	struct vft_result res;
	struct copier *copier;
};

/* vft_wait blocks; it runs here so the main thread stays free to act on
 * signals. A zero byte on the self-pipe says the session is over and every
 * byte has reached FILE. */
static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	vft_wait(w->s, &w->res);
	pthread_join(w->copier->thread, NULL);
	unsigned char b = 0;
	ssize_t n = write(self_pipe[1], &b, 1);
	(void)n;
	return NULL;
}

static int parse_u32(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfiotrace-record: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vfiotrace-record --help'.\n");
	return 2;
}

static int exit_code(const struct vft_result *r)
{
	switch (r->reason) {
	case VFT_END_EXITED:
		return r->status;
	case VFT_END_KILLED:
		return 128 + r->status;
	case VFT_END_DETACHED:
		return 0;
	default:
		return 2;
	}
}

/* What the command line asks for. */
struct args {
	const char *out_path;
	unsigned long cap;
	int follow, all, backend;
	int32_t pids[MAX_PIDS];
	uint32_t npids;
	int cmd; /* argv index of the command; cmdc words from there */
	int cmdc;
};

/* Parses the options into *a: -1 to go on, else the exit status (after
 * --help, --version, the self-test, or a usage error). */
static int parse_args(int argc, char **argv, struct args *a)
{
	enum { OPT_ALL = 256, OPT_VERSION, OPT_SELFTEST, OPT_BACKEND };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"payload-cap", required_argument, NULL, 's'},
		{"follow-forks", no_argument, NULL, 'f'},
		{"attach", required_argument, NULL, 'p'},
		{"all-ioctls", no_argument, NULL, OPT_ALL},
		{"backend", required_argument, NULL, OPT_BACKEND},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		/* hidden: header and synthetic records through the record writer,
		 * no ptrace; lets emulated (qemu-user) runs check the format */
		{"selftest-synthetic", required_argument, NULL, OPT_SELFTEST},
		{NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	/* '+': options end at the command, whose own options pass through */
	while ((c = getopt_long(argc, argv, "+o:s:fp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out_path = optarg;
			break;
		case 's':
			if (parse_u32(optarg, VFT_MAX_PAYLOAD_CAP, &a->cap) != 0)
				return usage_error("invalid -s value: '%s' (bytes, 0 to 64 MiB)", optarg);
			break;
		case 'f':
			a->follow = 1;
			break;
		case 'p': {
			unsigned long p;
			if (parse_u32(optarg, 0x7fffffff, &p) != 0 || p == 0)
				return usage_error("invalid process id: '%s'", optarg);
			if (a->npids == MAX_PIDS)
				return usage_error("too many -p options (at most %s)", "256");
			a->pids[a->npids++] = (int32_t)p;
			break;
		}
		case OPT_ALL:
			a->all = 1;
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "ptrace") != 0 && strcmp(optarg, "bpf") != 0)
				return usage_error("invalid --backend: '%s' (ptrace or bpf)", optarg);
			a->backend = strcmp(optarg, "bpf") == 0 ? VFT_BACKEND_BPF : VFT_BACKEND_PTRACE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("%s (%s, %u capture rules, engine build %s)\n", vfr_producer, vfr_arch, vfr_nrules, vft_build_id());
			return 0;
		case OPT_SELFTEST:
			return vfr_selftest(optarg);
		default: /* getopt's own message is off: one clear line instead */
			return usage_error("unknown option or missing argument: '%s'", argv[optind - 1]);
		}
	}
	a->cmd = optind;
	a->cmdc = argc - optind;
	if (!a->out_path)
		return usage_error("%s", "-o FILE is required");
	if (a->cmdc == 0 && a->npids == 0)
		return usage_error("%s", "must have COMMAND [ARGS] or -p PID");
	if (a->cmdc > 0 && a->npids > 0)
		return usage_error("%s", "give either COMMAND [ARGS] or -p PID, not both");
	return -1;
}

/* The command as NUL-separated strings, as vft_config wants it (NULL: out of memory). */
static char *command_blob(char **words, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	char *blob = malloc(len + 1);
	if (!blob)
		return NULL;
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(words[i]) + 1;
		memcpy(blob + o, words[i], l);
		o += l;
	}
	return blob;
}

/* SIGINT/TERM/HUP reach the main thread through self_pipe. */
static int catch_signals(void)
{
	if (pipe2(self_pipe, O_CLOEXEC) != 0) {
		fprintf(stderr, "vfiotrace-record: pipe: %s\n", strerror(errno));
		return -1;
	}
	/* FILE may be a FIFO whose reader goes away: that must not kill us
	 * mid-session (the engine then stops writing and the tracee runs on). */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return 0;
}

/* Until the session ends: strace's manners with signals — detach from
 * attached processes, pass the signal on to a spawned one (which decides
 * whether it ends the session). */
static void relay_signals(struct waiter *w, int attached)
{
	for (;;) {
		unsigned char b;
		ssize_t n = read(self_pipe[0], &b, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b == 0)
			break;
		if (attached)
			vft_detach(w->s);
		else
			vft_signal(w->s, b);
	}
}

/* Runs the session, the recording copied to `out` (closed here); returns the exit status. */
static int record(const struct args *a, char *blob, int out)
{
	struct vft_config cfg = {
		.abi_version = VFT_ABI_VERSION,
		.mode = a->npids ? VFT_MODE_ATTACH : VFT_MODE_SPAWN,
		.follow_forks = a->follow,
		.ioctl_type = a->all ? -1 : vfr_ioctl_type,
		.payload_cap = (uint32_t)a->cap,
		.out_fd = -1, /* a pipe, copied to FILE by copy_thread */
		.argv = a->cmdc ? blob : NULL,
		.argc = (uint32_t)a->cmdc,
		.pids = a->npids ? a->pids : NULL,
		.npids = a->npids,
		.rules = vfr_rules,
		.nrules = vfr_nrules,
		.producer = vfr_producer,
		.verdict_fd = -1,
		.backend = a->backend,
	};
	char err[512];
	struct waiter w = {0};
	w.s = vft_start(&cfg, err, sizeof(err));
	if (!w.s) {
		fprintf(stderr, "vfiotrace-record: %s\n", err);
		close(out);
		return 2;
	}
	struct copier cp = {.in = vft_read_fd(w.s), .out = out, .err = 0};
	w.copier = &cp;
	if (pthread_create(&cp.thread, NULL, copy_thread, &cp) != 0) {
		/* without a copier the tracer would block on a full pipe */
		fprintf(stderr, "vfiotrace-record: cannot start a thread\n");
		vft_free(w.s); /* detaches */
		close(cp.in);
		close(out);
		return 2;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, wait_thread, &w) != 0) {
		fprintf(stderr, "vfiotrace-record: cannot start a thread\n");
		vft_detach(w.s);
		vft_wait(w.s, &w.res);
		pthread_join(cp.thread, NULL);
	} else {
		relay_signals(&w, a->npids > 0);
		pthread_join(th, NULL);
	}
	if (w.res.text[0])
		fprintf(stderr, "vfiotrace-record: %s\n", w.res.text);
	int code = exit_code(&w.res);
	vft_free(w.s);
	if (close(out) != 0 && !cp.err)
		cp.err = errno;
	if (cp.err) {
		fprintf(stderr, "vfiotrace-record: writing %s: %s (the recording is incomplete)\n", a->out_path,
			strerror(cp.err));
		code = 2;
	}
	return code;
}

int main(int argc, char **argv)
{
	static struct args a = {.cap = 4096, .backend = VFT_BACKEND_PTRACE};
	int done = parse_args(argc, argv, &a);
	if (done >= 0)
		return done;
	char *blob = command_blob(argv + a.cmd, a.cmdc);
	if (!blob) {
		fprintf(stderr, "vfiotrace-record: out of memory\n");
		return 2;
	}
	/* CLOEXEC: the traced command must not inherit the recording */
	int out = open(a.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		fprintf(stderr, "vfiotrace-record: cannot write %s: %s\n", a.out_path, strerror(errno));
		free(blob);
		return 2;
	}
	if (catch_signals() != 0) {
		close(out);
		free(blob);
		return 2;
	}
	int code = record(&a, blob, out);
	free(blob);
	return code;
}
