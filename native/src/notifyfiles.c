/* The callers' open files, as the seccomp listener side knows them (see
 * struct peer_file in notify.h). Reading an fd's path costs a readlink in
 * /proc (~3 us here); asking whether the fd is still the open file we hold a
 * reference to costs one kcmp (~1 us). The path shown is the one read when
 * the open file was first met: a file renamed while open keeps its old
 * name, where a fresh readlink would show the new one. */
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

static int same_file(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	return syscall(SYS_kcmp, (long)pid1, (long)pid2, KCMP_FILE, (long)fd1, (long)fd2) == 0;
}

static int take_ref(pid_t pid, uint64_t fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	int ref = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	close(pidfd);
	return ref;
}

static struct peer_file *find(struct peer_files *f, pid_t pid, uint64_t fd)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].pid == pid && (uint64_t)f->v[i].fd == fd)
			return &f->v[i];
	return NULL;
}

/* The token of the open file `ref` refers to: a known file's (a dup, an
 * inherited fd: same path, same struct file), else a new one. */
static uint32_t token_of(struct peer_files *f, int ref, const struct call *c)
{
	pid_t me = getpid();
	for (size_t i = 0; i < f->n; i++) {
		struct peer_file *o = &f->v[i];
		if (o->ref >= 0 && o->path_len == c->path_len && memcmp(o->path, c->path, c->path_len) == 0 &&
		    same_file(me, o->ref, me, ref))
			return o->token;
	}
	return ++f->last_token;
}

uint32_t peer_file_of(struct notifier *n, pid_t pid, pid_t tid, uint64_t fd, struct call *c)
{
	struct peer_files *f = &n->files;
	struct peer_file *e = find(f, pid, fd);
	if (e && same_file(getpid(), e->ref, pid, (int)fd)) {
		memcpy(c->path, e->path, e->path_len);
		c->path_len = e->path_len;
		return e->token;
	}
	if (n->scratch.tid != tid) {
		fd_dir_close(&n->scratch);
		n->scratch.tid = tid;
	}
	fd_path(&n->scratch, fd, c);
	int ref = fd > 0x7fffffff ? -1 : take_ref(pid, fd);
	if (ref < 0)
		return 0; /* not an fd of the caller's (EBADF): the call fails so */
	uint32_t token = token_of(f, ref, c);
	if (!e) {
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 16;
			struct peer_file *v = realloc(f->v, cap * sizeof(*v));
			if (!v) {
				close(ref);
				return token;
			}
			f->v = v;
			f->cap = cap;
		}
		e = &f->v[f->n++];
	} else {
		close(e->ref); /* the number now names another open file */
	}
	*e = (struct peer_file){.pid = pid, .fd = (int)fd, .ref = ref, .token = token, .path_len = c->path_len};
	memcpy(e->path, c->path, c->path_len);
	return token;
}

void peer_files_free(struct peer_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		close(f->v[i].ref);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void peer_files_drop(struct peer_files *f, pid_t pid)
{
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].pid == pid)
			close(f->v[i].ref);
		else
			f->v[k++] = f->v[i];
	}
	f->n = k;
}
