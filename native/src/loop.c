/* The ptrace event loop: one thread, one waitpid, every stop handled and the
 * tracee resumed before the next wait. */
#include "engine.h"
#include "arch.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/ptrace.h> /* struct ptrace_syscall_info; after sys/ptrace.h */

void drain_detach(struct vft_session *s);

static void resume(struct vft_session *s, struct tracee *t, int sig)
{
	/* attach mode has no filter: every syscall stop is needed; spawn mode
	 * only needs the exit stop of a call it captured or a clone it changed */
	int req = (s->cfg.mode == VFT_MODE_ATTACH || t->in_call || t->clone_fix) ? PTRACE_SYSCALL : PTRACE_CONT;
	ptrace(req, t->tid, 0, (void *)(long)sig); /* ESRCH: it died, waitpid will say */
}

static int type_matches(const struct vft_session *s, uint64_t req)
{
	return s->cfg.ioctl_type < 0 || ((req >> 8) & 0xff) == (uint64_t)s->cfg.ioctl_type;
}

static void begin_call(struct vft_session *s, struct tracee *t, const uint64_t *args)
{
	struct call *c = &t->call;
	c->t_entry = now_ns(CLOCK_MONOTONIC);
	c->fd = args[0];
	c->request = args[1];
	c->arg = args[2];
	if (!c->in) {
		c->in = malloc(s->read_cap ? s->read_cap : 1);
		c->out = malloc(s->read_cap ? s->read_cap : 1);
	}
	fd_path(t, c->fd, c);
	const struct vft_rule *r = rule_find(s->rules, s->cfg.nrules, (uint32_t)c->request);
	if (!c->in || !c->out)
		r = NULL; /* out of memory: record the call without payload */
	/* Under emulation the verdict is given on the whole payload (-s must not
	 * change what the emulated kernel reads); the record keeps what -s says. */
	int emulating = s->cfg.verdict_fd >= 0;
	capture_entry(t->tid, c, r, s->cap, emulating);
	verdict_entry(s, t); /* emulation: may skip or rewrite the call */
	if (emulating)
		capture_trim(c, r, s->cap);
	t->in_call = 1;
}

static void end_call(struct vft_session *s, struct tracee *t, int64_t ret, int no_exit)
{
	struct call *c = &t->call;
	if (no_exit) {
		c->t_exit = 0;
		c->ret = 0;
		c->out_len = 0;
		c->flags |= IOF_NO_EXIT;
	} else {
		c->t_exit = now_ns(CLOCK_MONOTONIC);
		if (c->emu)
			ret = verdict_exit(t, ret);
		c->ret = ret;
		capture_exit(t->tid, c);
	}
	rec_ioctl(&s->ob, t->pid, t->tid, c);
	s->events++;
	t->in_call = 0;
}

/* Detaches a thread at a stop, passing along the signal it stopped with. */
static void detach_thread(struct vft_session *s, struct tracee *t, int sig)
{
	if (t->in_call)
		end_call(s, t, 0, 1);
	if (t->clone_fix)
		untraced_restore(t);
	ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)sig);
	if (t->report)
		rec_process(&s->ob, PK_DETACHED, t->pid, t->tid, 0, 0, NULL);
	tt_remove(&s->tt, t->tid);
}

#ifndef SPIN_POLLS
#define SPIN_POLLS 16
#endif

/* How long a detach waits for every thread to stop. */
#define DETACH_PATIENCE_NS 2000000000ull

/* Threads that never stopped (blocked uninterruptibly) are let go when this
 * thread exits: the kernel unlinks a dead tracer's tracees, and they carry on
 * where they were. Only attach mode gets here with live threads; a spawned
 * command's would be killed (PTRACE_O_EXITKILL). */
static void abandon_remaining(struct vft_session *s)
{
	for (size_t i = 0; i < s->tt.cap; i++) {
		struct tracee *t = s->tt.slots[i];
		if (!t)
			continue;
		if (t->in_call)
			end_call(s, t, 0, 1);
		if (t->report)
			rec_process(&s->ob, PK_DETACHED, t->pid, t->tid, 0, 0, NULL);
	}
}

static void begin_detach(struct vft_session *s)
{
	s->detaching = 1;
	s->detach_started = now_ns(CLOCK_MONOTONIC);
	atomic_store(&s->detach_ack, 1);
	for (size_t i = 0; i < s->tt.cap; i++) {
		struct tracee *t = s->tt.slots[i];
		if (t)
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	}
}

/* Sends sig to every traced process (each thread group once is enough, but
 * a repeat is harmless). */
static void signal_all(struct vft_session *s, int sig)
{
	for (size_t i = 0; i < s->tt.cap; i++) {
		struct tracee *t = s->tt.slots[i];
		if (t)
			kill(t->pid, sig);
	}
}

/* vft_end: the command and its traced descendants get the signal now and
 * SIGKILL once the grace runs out; tracing goes on meanwhile, so they can
 * handle the signal and their calls are still recorded. */
static int wants_end(struct vft_session *s)
{
	int sig = atomic_load(&s->end_sig);
	return sig != 0 && (!s->ending || (sig == SIGKILL && !s->end_killed));
}

static void begin_end(struct vft_session *s)
{
	int sig = atomic_load(&s->end_sig);
	if (!s->ending) {
		s->ending = 1;
		s->end_started = now_ns(CLOCK_MONOTONIC);
	}
	if (sig == SIGKILL)
		s->end_killed = 1;
	atomic_store(&s->detach_ack, 1);
	signal_all(s, sig);
}

/* Past the grace, whatever is still traced (new children included) gets SIGKILL. */
static void end_grace(struct vft_session *s)
{
	if (now_ns(CLOCK_MONOTONIC) - s->end_started > (uint64_t)VFT_END_GRACE_MS * 1000000ull) {
		s->end_killed = 1;
		signal_all(s, SIGKILL);
	}
}

static void on_syscall_stop(struct vft_session *s, struct tracee *t)
{
	struct ptrace_syscall_info si;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si);
	if (n > 0 && si.op == PTRACE_SYSCALL_INFO_EXIT) {
		if (t->in_call)
			end_call(s, t, si.exit.rval, 0);
		if (t->clone_fix)
			untraced_restore(t);
	} else if (n > 0 && si.op == PTRACE_SYSCALL_INFO_ENTRY) {
		if (t->in_call)
			end_call(s, t, 0, 1); /* an exit we never saw */
		int native = si.arch == VFT_AUDIT_ARCH;
		if (!s->detaching && t->report && native && si.entry.nr == VFT_NR_IOCTL &&
		    type_matches(s, si.entry.args[1]))
			begin_call(s, t, (const uint64_t *)si.entry.args);
		/* attach mode (no filter): -f follows CLONE_UNTRACED children too */
		else if (!s->detaching && s->cfg.follow_forks && native)
			untraced_clear(t, si.entry.nr, (const uint64_t *)si.entry.args);
	}
	if (s->detaching)
		detach_thread(s, t, 0);
	else
		resume(s, t, 0);
}

static void on_seccomp_stop(struct vft_session *s, struct tracee *t)
{
	if (s->detaching) {
		detach_thread(s, t, 0); /* the call then runs untraced */
		return;
	}
	struct ptrace_syscall_info si;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si);
	if (n > 0 && si.op == PTRACE_SYSCALL_INFO_SECCOMP && si.arch == VFT_AUDIT_ARCH) {
		if (si.seccomp.nr != VFT_NR_IOCTL)
			/* the filter's clone/clone3: whether reported or not, the
			 * child needs a tracer for its own filtered calls */
			untraced_clear(t, si.seccomp.nr, (const uint64_t *)si.seccomp.args);
		else if (t->report && type_matches(s, si.seccomp.args[1]))
			begin_call(s, t, (const uint64_t *)si.seccomp.args);
	}
	resume(s, t, 0);
}

static void on_exec(struct vft_session *s, struct tracee *t)
{
	unsigned long former = 0;
	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former);
	if ((pid_t)former != t->tid && former != 0) {
		/* a non-leader thread exec'd and took over the leader's tid */
		struct tracee *old = tt_find(&s->tt, (pid_t)former);
		if (old)
			tt_remove(&s->tt, (pid_t)former);
		t = tt_find(&s->tt, t->tid);
		if (!t)
			return;
	}
	t->in_call = 0;
	fd_dir_close(t); /* the tid may now be another thread's (non-leader exec) */
	if (t->tid == s->main_pid)
		s->main_execd = 1;
	if (t->report) {
		char p[64], exe[512];
		snprintf(p, sizeof(p), "/proc/%d/exe", (int)t->tid);
		ssize_t n = readlink(p, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		rec_process(&s->ob, PK_EXEC, t->pid, t->tid, 0,
			    (pid_t)former != t->tid ? (uint32_t)former : 0, exe);
	}
	if (s->detaching)
		detach_thread(s, t, 0);
	else
		resume(s, t, 0);
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_stop(struct vft_session *s, struct tracee *t, int status)
{
	int sig = WSTOPSIG(status);
	int ev = (int)((unsigned)status >> 16);
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_stop(s, t);
		return;
	}
	switch (ev) {
	case 0:
		break; /* signal-delivery-stop, below */
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(s, t);
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK: {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &child) == 0 && child > 0)
			tracee_new(s, (pid_t)child, t->tid);
		if (s->detaching)
			detach_thread(s, t, 0);
		else
			resume(s, t, 0);
		return;
	}
	case PTRACE_EVENT_EXEC:
		on_exec(s, t);
		return;
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) {
			/* group-stop: stay stopped for job control, but keep
			 * receiving events (SIGCONT, our interrupt) */
			if (s->detaching) {
				detach_thread(s, t, 0);
			} else {
				t->listening = 1;
				ptrace(PTRACE_LISTEN, t->tid, 0, 0);
			}
			return;
		}
		t->listening = 0;
		if (s->detaching)
			detach_thread(s, t, 0);
		else
			resume(s, t, 0);
		return;
	default: /* VFORK_DONE and others */
		if (s->detaching)
			detach_thread(s, t, 0);
		else
			resume(s, t, 0);
		return;
	}
	t->listening = 0;
	if (t->report)
		rec_process(&s->ob, PK_SIGNAL, t->pid, t->tid, sig, 0, NULL);
	if (s->detaching)
		detach_thread(s, t, sig);
	else
		resume(s, t, sig);
}

static void on_thread_exit(struct vft_session *s, pid_t tid, int status)
{
	struct tracee *t = tt_find(&s->tt, tid);
	if (!t)
		return;
	if (t->in_call)
		end_call(s, t, 0, 1);
	int exited = WIFEXITED(status);
	int value = exited ? WEXITSTATUS(status) : WTERMSIG(status);
	if (t->tid == t->pid && t->report)
		rec_process(&s->ob, exited ? PK_EXIT : PK_KILLED, t->pid, t->tid, value,
			    !exited && WCOREDUMP(status) ? 1 : 0, NULL);
	notify_forget(s, tid, t->pid);
	if (tid == s->main_pid) {
		s->have_result = 1;
		s->result.reason = exited ? VFT_END_EXITED : VFT_END_KILLED;
		s->result.status = value;
		if (exited && value == 127 && !s->main_execd && s->cfg.mode == VFT_MODE_SPAWN)
			spawn_exec_error(s, s->result.text, sizeof(s->result.text));
	}
	tt_remove(&s->tt, tid);
}

/* VFT_DEBUG=1 prints every wait status to stderr (read once). */
static int debug_enabled(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("VFT_DEBUG") != NULL;
	return on;
}

static int wants_detach(struct vft_session *s)
{
	/* A reader that went away ends an attach session (the processes run on
	 * untraced). A spawned command instead stays traced, silently, to its
	 * end: without a tracer its filtered calls would fail with ENOSYS. */
	return !s->detaching &&
	       (atomic_load(&s->detach_req) || (s->ob.broken && s->cfg.mode == VFT_MODE_ATTACH));
}

static void run(struct vft_session *s)
{
	while (s->tt.count > 0) {
		if (wants_detach(s))
			begin_detach(s);
		if (wants_end(s))
			begin_end(s);
		if (s->ending)
			end_grace(s);
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
		if (tid == 0 && s->ending && !s->detaching) {
			/* Poll while ending, to send SIGKILL when the grace runs out. */
			ob_flush(&s->ob);
			struct timespec pause = {0, 2000000};
			nanosleep(&pause, NULL);
			continue;
		}
		if (tid == 0 && s->detaching) {
			/* Poll while detaching: a thread blocked in an uninterruptible
			 * wait cannot stop for PTRACE_DETACH, so give up on it. */
			if (now_ns(CLOCK_MONOTONIC) - s->detach_started > DETACH_PATIENCE_NS) {
				abandon_remaining(s);
				break;
			}
			ob_flush(&s->ob);
			struct timespec pause = {0, 2000000};
			nanosleep(&pause, NULL);
			continue;
		}
		/* The next stop usually follows within microseconds: look again
		 * briefly before paying for a write and a blocking wait. */
		for (int spin = 0; tid == 0 && spin < SPIN_POLLS && s->ob.len > 0; spin++) {
			sched_yield();
			tid = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
		}
		if (tid == 0) {
			ob_flush(&s->ob); /* never sit on records while blocked */
			if (wants_detach(s) || wants_end(s))
				continue;
			tid = waitpid(-1, &status, __WALL | __WNOTHREAD);
		}
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nothing left that we can wait for */
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			on_thread_exit(s, tid, status);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		struct tracee *t = tracee_new(s, tid, 0);
		if (debug_enabled())
			fprintf(stderr, "vft: tid %d status %#x\n", (int)tid, status);
		if (t)
			on_stop(s, t, status);
		else
			ptrace(PTRACE_DETACH, tid, 0, 0);
	}
}

/* Used when attaching fails halfway: let go of what was seized, silently. */
void drain_detach(struct vft_session *s)
{
	int broken = s->ob.broken;
	s->ob.broken = 1;
	begin_detach(s);
	run(s);
	s->ob.broken = broken;
	s->detaching = 0;
}

void event_loop(struct vft_session *s)
{
	run(s);
	if (!s->have_result) {
		s->result.reason = s->detaching ? VFT_END_DETACHED : VFT_END_ERROR;
		if (!s->detaching)
			snprintf(s->result.text, sizeof(s->result.text), "lost track of the traced processes");
		s->have_result = 1;
	} else if (s->detaching && s->result.reason != VFT_END_EXITED && s->result.reason != VFT_END_KILLED) {
		s->result.reason = VFT_END_DETACHED;
	}
	/* the listener side counts and writes under the stream's lock: no call
	 * can be counted, or written, between the count and END */
	pthread_mutex_lock(&s->ob.mu);
	s->result.events = s->events + notify_events(s);
	rec_end(&s->ob, s->result.reason, s->result.status, 0, s->result.events, s->result.text);
	pthread_mutex_unlock(&s->ob.mu);
	ob_flush(&s->ob);
}
