/* How an eBPF session starts: the command spawned, or the processes
 * attached, put in the targets map and introduced in the recording as the
 * ptrace backend introduces them. */
#include "bpfengine.h"

#ifdef VFT_HAVE_BPF

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bpf/events.h"

/* THREAD records (creator 0: already running) for pid's other threads, in
 * tid order, as the ptrace backend introduces the threads it seized. */
void announce_threads(struct vft_session *s, pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return;
	pid_t tids[4096];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < sizeof(tids) / sizeof(tids[0])) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid > 0 && tid != pid)
			tids[n++] = tid;
	}
	closedir(d);
	qsort(tids, n, sizeof(pid_t), tid_cmp);
	for (size_t i = 0; i < n; i++)
		rec_process(&s->ob, PK_THREAD, pid, tids[i], 0, 0, NULL);
}

static int target(struct bpf_events *e, pid_t pid, uint32_t children)
{
	struct vft_bpf_target v = {1, children};
	uint32_t key = (uint32_t)pid;
	return bpf_map_put(e->targets_fd, &key, &v);
}

int bpf_spawn(struct vft_session *s, struct bpf_events *e)
{
	int rc = spawn_child(s);
	if (rc < 0)
		return -1;
	pid_t pid = s->main_pid;
	if (target(e, pid, s->cfg.follow_forks ? 1 : 0) != 0) {
		set_err(s, "cannot add the command to the eBPF targets map: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	rec_process(&s->ob, PK_START, pid, pid, 0, (uint32_t)getpid(), s->argv_blob);
	live_add(e, pid);
	spawn_release(s);
	return 0;
}

int bpf_attach(struct vft_session *s, struct bpf_events *e)
{
	for (uint32_t i = 0; i < s->cfg.npids; i++) {
		pid_t pid = s->pids[i];
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d", (int)pid);
		if (access(p, F_OK) != 0) {
			set_err(s, "cannot attach to %d: No such process", (int)pid);
			return -1;
		}
		if (target(e, pid, s->cfg.follow_forks ? 1 : 0) != 0) {
			set_err(s, "cannot attach to %d: eBPF targets map: %s", (int)pid, strerror(errno));
			return -1;
		}
		char comm[64];
		proc_comm(pid, comm, sizeof(comm));
		rec_process(&s->ob, PK_START, pid, pid, 0, 0, comm);
		announce_threads(s, pid);
		live_add(e, pid);
	}
	s->main_pid = s->pids[0];
	return 0;
}

#endif
