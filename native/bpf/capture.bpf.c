// SPDX-License-Identifier: MIT OR GPL-2.0
/* The eBPF capture program: the same capture rules as the ptrace engine
 * (src/capture.c), run in the kernel at ioctl entry and exit, so a traced
 * process is never stopped. It knows an ioctl type byte and a rules map,
 * nothing of VFIO: the engine fills both from its configuration.
 *
 * Calls of processes in `targets` (every process, with `trace_all`)
 * whose request has the configured type byte are copied to the ring buffer
 * as an ENTRY record (the argument bytes) and an EXIT record (the bytes
 * again, and the return value). Forks, execs and exits of traced processes
 * follow, and close/dup2/dup3 so the engine can forget an fd's path.
 *
 * bpf_probe_read_user cannot fault a page in: memory that is valid but not
 * present reads as a fault here. The engine flags such a payload as
 * unavailable rather than blaming the caller. */
#include "kernel.h"
#include "events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the engine before load (.rodata). */
const volatile __u32 ioctl_type = 0x3b;
const volatile __u32 payload_cap = VFT_BPF_MAX_DATA;
const volatile __u32 trace_all = 0;
const volatile __u32 small_ring = 0;
/* Bytes waiting in the ring before the engine is woken (it also polls). */
const volatile __u64 wake_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} ring SEC(".maps");

/* A deliberately tiny ring, for seeing drops counted (engine option). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 10);
} ring_small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vft_bpf_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vft_bpf_rule);
} rules SEC(".maps");

/* What an entry left for its exit, in the calling thread's own storage: no
 * hashing, no shared bucket lock between CPUs (valid: an entry is open). */
struct inflight {
	__u64 arg;
	__u32 len;  /* bytes read at entry: read again at exit */
	__u32 kind;
	__u32 valid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} calls SEC(".maps");

/* One record being built, per CPU: fixed part + payload. */
/* Each record's bytes follow its own fixed part, which is at most an
 * entry's: the record is built at the start, its data right after it. */
struct scratch {
	__u8 raw[sizeof(struct vft_ev_entry) + VFT_BPF_MAX_DATA];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VFT_CNT_N);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);
	if (v)
		*v += 1;
}

/* Writes a built record; wakes the engine only once enough is waiting. */
static __always_inline int emit(void *rec, __u64 size)
{
	void *rb = small_ring ? (void *)&ring_small : (void *)&ring;
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	__u64 flags = avail + size >= wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(rb, rec, size, flags) != 0) {
		count(VFT_CNT_DROPPED);
		return -1;
	}
	return 0;
}

static __always_inline struct vft_bpf_target *traced(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline int reported(__u32 tgid)
{
	struct vft_bpf_target *t = traced(tgid);
	return t && t->report;
}

static __always_inline void header(struct vft_ev_hdr *h, __u32 type, __u64 pid_tgid, __u32 len)
{
	h->type = type;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->len = len;
	h->ts = bpf_ktime_get_ns();
}

/* Host-wide mode: a process is reported from its first matching call on,
 * introduced by a SEEN record with its comm; its threads, execs, signals and
 * exit then follow as for any traced process. A process already in the map
 * unreported is one the engine left out (the tracer itself); one another of
 * its threads has just met is reported. The engine introduces a process at
 * whichever comes first of its SEEN and an ENTRY, so a SEEN overtaken or
 * lost costs nothing. A full map loses the call, counted as such. */
/* The process's name, not the calling thread's (QEMU's "CPU 0/KVM"). */
static __always_inline void leader_comm(char (*comm)[16])
{
	struct task_struct *task = (void *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(comm, task, group_leader, comm); /* sizeof(*comm): 16 */
}

static __always_inline int first_seen(__u64 id)
{
	__u32 tgid = id >> 32;
	struct vft_bpf_target t = {1, 0};
	long err = bpf_map_update_elem(&targets, &tgid, &t, BPF_NOEXIST);
	if (err == -17 /* EEXIST */)
		return reported(tgid);
	if (err != 0) {
		count(VFT_CNT_DROPPED);
		return 0;
	}
	struct vft_ev_seen e = {};
	header(&e.h, VFT_EV_SEEN, id, 0);
	leader_comm(&e.comm);
	emit(&e, sizeof(e));
	return 1;
}

/* one translation unit: these use the maps and helpers above */
#include "rules.h"
#include "fdpath.h"

struct sys_enter_ioctl_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 fd, cmd, arg;
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

SEC("tracepoint/syscalls/sys_enter_ioctl")
int on_ioctl_enter(struct sys_enter_ioctl_ctx *ctx)
{
	__u32 req = (__u32)ctx->cmd;
	if (ioctl_type <= 255 && ((req >> 8) & 0xff) != ioctl_type)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (!reported(id >> 32) && !(trace_all && first_seen(id)))
		return 0;
	send_path(id, ctx->fd);
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct vft_ev_entry *e = (void *)s->raw;
	header(&e->h, VFT_EV_ENTRY, id, 0);
	e->fd = ctx->fd;
	e->request = ctx->cmd;
	e->arg = ctx->arg;
	e->want_len = 0;
	e->in_fault = 0xffffffffu;
	e->flags = 0;
	e->comm[0] = 0;
	if (trace_all)
		leader_comm(&e->comm);
	struct vft_bpf_rule none = {VFT_BPF_RULE_NONE, 0, 0, 0};
	struct vft_bpf_rule *r = bpf_map_lookup_elem(&rules, &req);
	if (!r)
		r = &none;
	e->kind = r->kind;
	capture_entry(e, s->raw + sizeof(*e), r);
	__u64 len = bounded(e->h.len);
	if (emit(e, sizeof(*e) + len) != 0)
		return 0; /* no entry, no exit: one call counted lost */
	struct inflight *f = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!f)
		return 0;
	f->arg = ctx->arg;
	f->len = r->kind == VFT_BPF_RULE_CSTRING ? 0 : (__u32)len;
	f->kind = r->kind;
	f->valid = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int on_ioctl_exit(struct sys_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *f = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
	if (!f || !f->valid)
		return 0;
	__u64 arg = f->arg;
	__u32 len = (__u32)bounded(f->len);
	f->valid = 0;
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct vft_ev_exit *x = (void *)s->raw;
	header(&x->h, VFT_EV_EXIT, id, 0);
	x->ret = ctx->ret;
	x->out_fault = 0xffffffffu;
	x->flags = 0;
	__u32 got = read_prefix(s->raw + sizeof(*x), arg, len);
	if (got < len) {
		x->flags |= VFT_BPF_OUT_FAULT | (mapped(arg + got) ? VFT_BPF_OUT_UNAVAIL : 0);
		x->out_fault = got;
	}
	x->h.len = got;
	emit(x, sizeof(*x) + bounded(got));
	return 0;
}

struct sys_enter_fd_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

static __always_inline void fd_gone(__u64 fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!reported(id >> 32) || fd > 0x7fffffff)
		return;
	struct fdkey k = {id >> 32, (__u32)fd};
	bpf_map_delete_elem(&fd_files, &k);
	struct vft_ev_fd_gone g = {};
	header(&g.h, VFT_EV_FD_GONE, id, 0);
	g.fd = (__u32)fd;
	emit(&g, sizeof(g));
}

SEC("tracepoint/syscalls/sys_enter_close")
int on_close(struct sys_enter_fd_ctx *ctx)
{
	fd_gone(ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int on_dup2(struct sys_enter_fd_ctx *ctx)
{
	fd_gone(ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int on_dup3(struct sys_enter_fd_ctx *ctx)
{
	fd_gone(ctx->args[1]);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	struct vft_bpf_target *t = traced(ptgid);
	if (!t)
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	/* a new process is followed too; whether it is reported, its parent says.
	 * Host-wide, each process is met at its own first call instead. */
	if (ctgid != ptgid && !trace_all) {
		struct vft_bpf_target c = {t->children, t->children};
		bpf_map_update_elem(&targets, &ctgid, &c, BPF_ANY);
	}
	if (ctgid != ptgid ? !reported(ctgid) : !reported(ptgid))
		return 0;
	struct vft_ev_fork e = {};
	header(&e.h, VFT_EV_FORK, ((__u64)ptgid << 32) | (__u32)BPF_CORE_READ(parent, pid), 0);
	e.child_pid = ctgid;
	e.child_tid = BPF_CORE_READ(child, pid);
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	emit(&e, sizeof(e));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!reported(id >> 32))
		return 0;
	__u32 tgid = id >> 32;
	__u32 *g = bpf_map_lookup_elem(&exec_gen, &tgid);
	__u32 next = g ? *g + 1 : 1;
	bpf_map_update_elem(&exec_gen, &tgid, &next, BPF_ANY);
	__u32 zero = 0;
	/* the new program's file, as /proc/PID/exe names it (not the name execve was given) */
	struct pathbuf *pb = bpf_map_lookup_elem(&pathbuf, &zero);
	struct file *f = BPF_CORE_READ(bprm, file);
	if (!pb || !f)
		return 0;
	struct vft_ev_exec *e = (void *)&pb->ev;
	__u64 len = file_path(pb->buf, f);
	header(&e->h, VFT_EV_EXEC, id, (__u32)len);
	e->old_tid = (__u32)old_pid != (__u32)id ? (__u32)old_pid : 0;
	e->pad = 0;
	emit(e, sizeof(*e) + len);
	return 0;
}

/* As ptrace reports a signal-delivery stop; SIGKILL never stops a tracee. */
SEC("tp_btf/signal_deliver")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (sig == 9 || !reported(id >> 32))
		return 0;
	struct vft_ev_signal e = {};
	header(&e.h, VFT_EV_SIGNAL, id, 0);
	e.sig = (__u32)sig;
	emit(&e, sizeof(e));
	return 0;
}

/* A traced process gets even the signals it ignores (a tracer may want to
 * see them), so ptrace reports them; these never reach signal_deliver. */
SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_ignored, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
	if (result != 1 /* TRACE_SIGNAL_IGNORED */ || sig == 9)
		return 0;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (!reported(tgid))
		return 0;
	struct vft_ev_signal e = {};
	header(&e.h, VFT_EV_SIGNAL, ((__u64)tgid << 32) | (__u32)BPF_CORE_READ(task, pid), 0);
	e.sig = (__u32)sig;
	emit(&e, sizeof(e));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct vft_bpf_target *t = traced(tgid);
	if (!t)
		return 0;
	/* an open call's inflight entry goes with the thread's task storage */
	int rep = reported(tgid);
	/* do_exit has counted this thread out of signal->live already: 0 means
	 * the whole group is gone, and its number may soon be someone else's */
	int group_dead = BPF_CORE_READ(p, signal, live.counter) == 0;
	if (group_dead && t)
		bpf_map_delete_elem(&targets, &tgid);
	if (!rep)
		return 0;
	struct vft_ev_gone g = {};
	header(&g.h, VFT_EV_GONE, id, 0);
	g.exit_code = BPF_CORE_READ(p, exit_code);
	g.group_dead = group_dead;
	emit(&g, sizeof(g));
	return 0;
}
