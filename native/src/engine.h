/* Internal declarations shared by the engine's source files. */
#ifndef VFT_ENGINE_H
#define VFT_ENGINE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../include/vftrace.h"

/* ---- output buffer (outbuf.c): records are batched, then written ---- */

struct outbuf {
	int fd;
	uint8_t *data;
	size_t len, cap;
	int broken;              /* the reader went away: drop further output */
	int sealed;              /* the END record is in: nothing may follow it */
	const atomic_int *wake;  /* set when a detach request interrupts a write */
	atomic_int *ack;
	/* Two writers under emulation through a seccomp listener (notify.c):
	 * the tracer thread and the thread answering the listener. Records are
	 * reserved, filled and flushed under this lock (record.c). */
	pthread_mutex_t mu;
};

int ob_init(struct outbuf *ob, int fd, size_t cap);
void ob_free(struct outbuf *ob);
/* Returns n zeroed bytes at the end of the buffer (flushing first if
 * needed). The caller holds ob->mu. */
uint8_t *ob_reserve(struct outbuf *ob, size_t n);
/* Writes out what is buffered; takes ob->mu. */
int ob_flush(struct outbuf *ob);

/* ---- records (record.c): the recording format's byte layout ---- */

enum { REC_IOCTL = 1, REC_PROCESS = 2, REC_END = 3 };
enum {
	IOF_TRUNCATED = 0x1,
	IOF_IN_FAULT = 0x2,
	IOF_OUT_FAULT = 0x4,
	IOF_NO_EXIT = 0x8,
	/* 0x10: EMULATED (verdict.h). eBPF capture: the fault met a mapped page
	 * that was not resident, not a bad pointer. */
	IOF_IN_UNAVAILABLE = 0x20,
	IOF_OUT_UNAVAILABLE = 0x40,
};
enum {
	PK_START = 1,
	PK_EXEC = 2,
	PK_EXIT = 3,
	PK_KILLED = 4,
	PK_DETACHED = 5,
	PK_SIGNAL = 6,
	PK_THREAD = 7,
};

struct call; /* below */

uint64_t now_ns(clockid_t clk);
/* scope: header tag 7, "all" for a host-wide session, else "" (no tag) */
void rec_header(struct outbuf *ob, uint64_t rt, uint64_t mono, const char *argv, size_t argv_len,
		const char *pids, const char *scope, const char *producer);
void rec_ioctl(struct outbuf *ob, pid_t pid, pid_t tid, const struct call *c);
void rec_process(struct outbuf *ob, int kind, pid_t pid, pid_t tid, int32_t value, uint32_t other,
		 const char *text);
void rec_end(struct outbuf *ob, int reason, int32_t status, uint32_t dropped, uint64_t events, const char *text);

/* ---- capture (capture.c) ---- */

struct call {
	uint64_t t_entry, t_exit;
	uint64_t fd, request, arg;
	int64_t ret;
	uint32_t flags;
	uint32_t want_len, in_len, out_len, in_fault, out_fault;
	uint8_t kind;
	uint16_t path_len;
	char path[512];
	uint8_t *in, *out; /* payload_cap bytes each, allocated on first use */
	uint8_t emu;       /* verdict.c: 1 = skipped, return emu_ret; 2 = rewritten */
	int64_t emu_ret;
};

const struct vft_rule *rule_find(const struct vft_rule *rules, uint32_t n, uint32_t request);
/* Fills c->in and the capture fields at syscall entry, up to the rule's cap
 * and global_cap; `whole` (emulation) ignores global_cap when the rule has
 * a cap of its own, so the emulator sees what the kernel would read. */
int capture_entry(pid_t tid, struct call *c, const struct vft_rule *r, uint32_t global_cap, int whole);
/* Cuts a capture taken whole down to what global_cap lets the record keep,
 * exactly as if it had been taken under global_cap in the first place. */
void capture_trim(struct call *c, const struct vft_rule *r, uint32_t global_cap);
/* Re-reads the same range at syscall exit. */
void capture_exit(pid_t tid, struct call *c);
struct tracee;
/* The path of the thread's fd, read fresh at every call (it cannot be cached:
 * close, dup2, exec and io_uring change fds without a stop). */
void fd_path(struct tracee *t, uint64_t fd, struct call *c);
void fd_dir_close(struct tracee *t);

/* ---- seccomp filter (filter.c) ---- */

/* Installs the filter in the calling process (used in the spawned child
 * between fork and exec: only async-signal-safe calls). ioctls of type byte
 * notify_type (>= 0) go to a seccomp listener, whose fd is put in *listener
 * (-1 without one). Returns 0 or -errno. */
int filter_install(int ioctl_type, int notify_type, int *listener);

/* ---- CLONE_UNTRACED (untraced.c) ---- */

enum { CLONE_FIX_NONE, CLONE_FIX_REGISTER, CLONE_FIX_MEMORY };
/* At the entry of syscall nr (a seccomp or syscall-entry stop): for clone or
 * clone3 with CLONE_UNTRACED, clears the flag so the kernel auto-attaches
 * the child; sets t->clone_fix when the caller's value must be put back. */
void untraced_clear(struct tracee *t, uint64_t nr, const uint64_t *args);
/* At the call's exit stop, or a detach before it: puts the flag back. */
void untraced_restore(struct tracee *t);

/* ---- tracee table (tracees.c) ---- */

struct tracee {
	pid_t tid, pid;
	uint8_t report;    /* events of this thread reach the output */
	uint8_t in_call;   /* entry captured, waiting for the exit stop */
	uint8_t announced; /* START/THREAD record written */
	uint8_t listening; /* in group-stop under PTRACE_LISTEN */
	int fd_dir;        /* O_PATH of /proc/TID/fd once a call needed it, else -1 */
	struct call call;
	/* untraced.c: a clone/clone3 whose CLONE_UNTRACED was cleared, to be
	 * put back at the call's exit stop */
	uint8_t clone_fix; /* CLONE_FIX_* */
	uint64_t clone_fix_addr, clone_flags;
};

struct tracees {
	struct tracee **slots;
	size_t cap, count;
};

struct tracee *tt_find(struct tracees *t, pid_t tid);
struct tracee *tt_add(struct tracees *t, pid_t tid);
void tt_remove(struct tracees *t, pid_t tid);
void tt_free(struct tracees *t);

/* ---- session (session.c, spawn.c, attach.c, loop.c) ---- */

struct vft_session {
	struct vft_config cfg; /* pointers below are owned copies */
	char *argv_blob;
	size_t argv_len;
	char *env_blob;
	size_t env_len;
	char *cwd;
	int32_t *pids;
	struct vft_rule *rules;
	char *producer;
	uint32_t cap;      /* -s: bytes of each payload recorded */
	uint32_t read_cap; /* bytes of each payload buffer: cap, or the largest rule's under emulation */

	int read_fd;
	struct outbuf ob;
	pthread_t thread;
	int thread_started;

	/* start handshake */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int start_state; /* 0 pending, 1 ok, -1 failed */
	char err[256];

	pid_t main_pid;
	int exec_err_fd;  /* spawn: CLOEXEC pipe the child reports exec errno on */
	int spawn_go_fd;  /* spawn: the child execs once a byte arrives here (-1: sent) */
	int main_execd;
	struct tracees tt;
	uint64_t events;

	atomic_int detach_req;
	atomic_int end_sig;    /* vft_end: the signal to end a spawned command with */
	atomic_int wake_req;   /* a detach or end request is waiting (outbuf.c) */
	atomic_int detach_ack; /* the tracer thread has seen the request */
	atomic_int finished;
	int detaching;
	uint64_t detach_started; /* CLOCK_MONOTONIC ns */
	int ending;              /* vft_end: signal sent, SIGKILL after the grace */
	int end_killed;          /* the grace ran out: SIGKILL sent */
	uint64_t end_started;

	struct vft_result result;
	int have_result;

	struct bpf_backend *bpf; /* the eBPF backend's state (bpf.c), or NULL */
	struct notifier *notify; /* the seccomp listener's state (notify.c), or NULL */
	atomic_int refs;         /* vft_free and an open notify handle */
};

void session_unref(struct vft_session *s);

/* ---- emulation through a seccomp listener (notify.c) ---- */

/* Spawn: takes the listener the child sends on sock (its end of a
 * socketpair) before the tracer seizes it. Returns 0 or -1 with the
 * session's error set. */
int notify_receive(struct vft_session *s, int sock);
/* The tracer thread met a thread (or a forked process: parent != 0). */
void notify_learn(struct vft_session *s, pid_t tid, pid_t pid, pid_t parent);
/* A traced thread is gone (its tid may come back as another's). */
void notify_forget(struct vft_session *s, pid_t tid, pid_t pid);
void notify_free(struct vft_session *s);
/* IOCTL records the listener side wrote. */
uint64_t notify_events(const struct vft_session *s);

int spawn_start(struct vft_session *s);
int spawn_child(struct vft_session *s);
void spawn_release(struct vft_session *s);
/* After the main child exited 127 without exec'ing: why, if it said. */
void spawn_exec_error(struct vft_session *s, char *buf, size_t len);
int attach_start(struct vft_session *s);
/* /proc/PID/comm into buf, "" if the process is gone (attach.c). */
void proc_comm(pid_t pid, char *buf, size_t len);
/* qsort order of pid_t values (attach.c). */
int tid_cmp(const void *a, const void *b);
void event_loop(struct vft_session *s);
/* Adds a tracee learnt from a clone event or a first stop; creator 0 = unknown. */
struct tracee *tracee_new(struct vft_session *s, pid_t tid, pid_t creator);
void announce(struct vft_session *s, struct tracee *t, pid_t creator);

void set_err(struct vft_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the eBPF backend (bpf.c): the same stream, no tracee ever stopped ---- */

int bpf_start(struct vft_session *s);
void bpf_loop(struct vft_session *s);
void bpf_stop(struct vft_session *s);

/* ---- emulation verdicts (verdict.c, include/verdict.h) ---- */

/* At a captured call's entry: asks for a verdict (when verdict_fd >= 0) and applies it. */
void verdict_entry(struct vft_session *s, struct tracee *t);
/* A verdict message (include/verdict.h), checked: bounds of every block. */
struct verdict_msg {
	uint32_t action, nwrites, path_len, open_flags;
	int64_t ret;
	const uint8_t *body; /* the write blocks */
	const uint8_t *path; /* OPENAT, path_len bytes, no NUL */
};
int verdict_parse(const uint8_t *h, const uint8_t *body, uint32_t body_len, struct verdict_msg *v);
/* Copies a RETURN verdict's blocks into the thread's memory: the verdict's
 * ret, or -EFAULT when a block met unmapped or read-only memory (then
 * *faulted, if given, is set). */
int64_t verdict_write(pid_t tid, const struct verdict_msg *v, int *faulted);
/* Lays the blocks' bytes that fall in [base, base + len) over buf: what the
 * caller's memory there holds once they are written. */
void verdict_overlay(const struct verdict_msg *v, uint64_t base, uint8_t *buf, uint32_t len);
/* Writes len bytes at addr in the thread's memory: 0 or -EFAULT. */
int write_mem(pid_t tid, uint64_t addr, const uint8_t *src, size_t len);
/* At its exit stop, for an emulated call: sets the return value; returns it. */
int64_t verdict_exit(struct tracee *t, int64_t ret);

#endif
