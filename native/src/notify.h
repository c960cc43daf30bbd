/* The seccomp listener's state, shared by notify.c (setup, what the
 * tracer thread tells), notifycall.c (the answering thread's calls) and
 * notifyfiles.c (the callers' open files). */
#ifndef VFT_NOTIFY_H
#define VFT_NOTIFY_H

#include "engine.h"
#include <linux/seccomp.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS /* Linux 6.6 */
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* What the tracer thread saw, for the answering thread, in order: a
 * process forked (parent > 0) or gone (parent 0). */
struct fork_event {
	pid_t child, parent;
};

struct tid_pid {
	pid_t tid, pid; /* tid 0: free slot; pid 0: the thread is gone */
};

/* The open files calls were made on, each under a reference of ours
 * (pidfd_getfd): a call on the same open file as before is known by one
 * kcmp, not a readlink, and every open file gets a token that a dup or an
 * inherited fd shares. */
struct peer_file {
	pid_t pid;
	int fd, ref;
	uint32_t token;
	uint16_t path_len;
	char path[512];
};

struct peer_files {
	struct peer_file *v;
	size_t n, cap;
	uint32_t last_token;
};

struct notifier {
	int listener, wake;
	atomic_int woken; /* vft_notify_wake was called: the next wait looks at `wake` */
	pthread_mutex_t mu; /* the two fields below: the tracer thread adds, the answering thread takes */
	struct fork_event *forks;
	size_t nforks, forks_cap;
	struct tid_pid *threads; /* open addressing, a power of two */
	size_t threads_cap, nthreads;

	/* the answering thread's own */
	struct seccomp_notif stash; /* received while a FORK notice was due */
	int have_stash;
	int in_call; /* a CALL notice is out, not answered yet */
	uint64_t id;
	const struct vft_rule *rule;
	pid_t tid, pid;
	struct tracee scratch; /* fd_path's per-thread /proc/TID/fd */
	struct call call;
	uint32_t file;          /* the call's open-file token (notifyfiles.c) */
	struct peer_files files;
	atomic_ullong events;
};


/* notifyfiles.c: fills c->path for the calling thread's fd and returns the
 * open file's token (0 when it cannot be told: no reference could be taken). */
uint32_t peer_file_of(struct notifier *n, pid_t pid, pid_t tid, uint64_t fd, struct call *c);
void peer_files_free(struct peer_files *f);

/* notify.c */
struct vft_session *notify_handle(int h);
pid_t notify_pid_of(struct notifier *n, pid_t tid);
/* notifycall.c: a FORK notice when one is due, else 0 (gone processes'
 * open files are let go on the way) */
int notify_due_fork(struct notifier *n, uint8_t *msg);
/* notifycall.c: the calls taken and not answered run on the kernel (the
 * handle is being closed: nobody will answer them) */
void notify_let_run(struct vft_session *s);
/* notifyfiles.c: lets go of a gone process's open files */
void peer_files_drop(struct peer_files *f, pid_t pid);

#endif
