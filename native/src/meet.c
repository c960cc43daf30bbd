/* Meeting a thread: its tracee entry, which process it belongs to, and the
 * START or THREAD record that introduces it, once its creator is known
 * (the creator's fork/clone event or the child's own first stop may come
 * first). The seccomp listener side is told too (notify_learn). */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void announce(struct vft_session *s, struct tracee *t, pid_t creator)
{
	t->announced = 1;
	struct tracee *c = creator && t->tid == t->pid ? tt_find(&s->tt, creator) : NULL;
	uint32_t parent = c ? (uint32_t)c->pid : (uint32_t)creator;
	notify_learn(s, t->tid, t->pid, t->tid == t->pid ? (pid_t)parent : 0);
	if (!t->report)
		return;
	if (t->tid == t->pid) {
		char p[64], comm[64];
		snprintf(p, sizeof(p), "/proc/%d/comm", (int)t->tid);
		read_small(p, comm, sizeof(comm));
		rec_process(&s->ob, PK_START, t->pid, t->tid, 0, parent, comm);
	} else {
		rec_process(&s->ob, PK_THREAD, t->pid, t->tid, 0, (uint32_t)creator, NULL);
	}
}

static pid_t tgid_of(pid_t tid)
{
	char p[64], line[128];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)tid);
	FILE *f = fopen(p, "re");
	pid_t tgid = tid;
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Tgid:", 5) == 0) {
			tgid = (pid_t)atoi(line + 5);
			break;
		}
	}
	fclose(f);
	return tgid > 0 ? tgid : tid;
}

struct tracee *tracee_new(struct vft_session *s, pid_t tid, pid_t creator)
{
	struct tracee *t = tt_find(&s->tt, tid);
	if (t) {
		if (!t->announced && creator)
			announce(s, t, creator);
		return t;
	}
	pid_t tgid = tgid_of(tid);
	t = tt_add(&s->tt, tid);
	if (!t)
		return NULL;
	t->pid = tgid;
	struct tracee *leader = tgid != tid ? tt_find(&s->tt, tgid) : NULL;
	if (leader)
		t->report = leader->report;
	else
		t->report = s->cfg.follow_forks || tgid == s->main_pid;
	if (creator)
		announce(s, t, creator);
	return t;
}
