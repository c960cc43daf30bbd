/* Attach mode: PTRACE_SEIZE every thread of each process, re-scanning
 * /proc/PID/task until no new thread shows up (threads may be created while
 * we attach; those created by an already seized thread are auto-attached). */
#include "engine.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

void drain_detach(struct vft_session *s);

static long attach_opts(const struct vft_session *s)
{
	long o = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
	if (s->cfg.follow_forks)
		o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	return o;
}

/* Seizes one thread and asks it to stop so syscall tracing can begin. */
static int seize(struct vft_session *s, pid_t pid, pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)attach_opts(s)) != 0)
		return -errno;
	struct tracee *t = tt_add(&s->tt, tid);
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->report = 1;
	t->announced = 1;
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	return 0;
}

static int scan_tasks(struct vft_session *s, pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	int added = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tt_find(&s->tt, tid))
			continue;
		if (seize(s, pid, tid) == 0)
			added++;
	}
	closedir(d);
	return added;
}

void proc_comm(pid_t pid, char *buf, size_t len)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	FILE *f = fopen(p, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* THREAD records (creator 0: already running) for the threads of pid that
 * were seized, in tid order: every thread later reported DETACHED has been
 * introduced, and a reader can name each one as attached. */
static void record_seized_threads(struct vft_session *s, pid_t pid)
{
	size_t n = 0;
	pid_t *tids = calloc(s->tt.count ? s->tt.count : 1, sizeof(pid_t));
	if (!tids)
		return;
	for (size_t i = 0; i < s->tt.cap && n < s->tt.count; i++) {
		struct tracee *t = s->tt.slots[i];
		if (t && t->pid == pid && t->tid != pid)
			tids[n++] = t->tid;
	}
	qsort(tids, n, sizeof(pid_t), tid_cmp);
	for (size_t i = 0; i < n; i++)
		rec_process(&s->ob, PK_THREAD, pid, tids[i], 0, 0, NULL);
	free(tids);
}

int attach_start(struct vft_session *s)
{
	for (uint32_t i = 0; i < s->cfg.npids; i++) {
		pid_t pid = s->pids[i];
		if (tt_find(&s->tt, pid))
			continue; /* listed twice */
		int rc = seize(s, pid, pid);
		if (rc != 0) {
			set_err(s, "cannot attach to %d: %s", (int)pid, strerror(-rc));
			drain_detach(s);
			return -1;
		}
		while (scan_tasks(s, pid) > 0)
			;
		char comm[64];
		proc_comm(pid, comm, sizeof(comm));
		rec_process(&s->ob, PK_START, pid, pid, 0, 0, comm);
		record_seized_threads(s, pid);
	}
	s->main_pid = s->pids[0];
	return 0;
}
