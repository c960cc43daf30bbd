// SPDX-License-Identifier: MIT OR GPL-2.0
/* The eBPF capture program: the same capture rules as the ptrace engine
 * (src/capture.c), run in the kernel at ioctl entry and exit, so a traced
 * process is never stopped. It knows an ioctl type byte and a rules map,
 * nothing of VFIO: the engine fills both from its configuration.
 *
 * Calls of processes in `targets` (or every process, with `trace_all`)
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

/* What an entry left for its exit, by tid. */
struct inflight {
	__u64 arg;
	__u32 len;  /* bytes read at entry: read again at exit */
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
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
	if (trace_all)
		return 1;
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

/* A payload size the verifier can bound: 64-bit (see read_prefix). */
static __always_inline __u64 bounded(__u32 n32)
{
	__u64 n = n32;
	if (n > VFT_BPF_MAX_DATA)
		n = VFT_BPF_MAX_DATA;
	return n;
}

/* The offset of the first page of [addr, addr+len) that cannot be read. */
static __always_inline __u32 first_fault(__u64 addr, __u32 len)
{
	__u8 probe;
	__u32 off = 0;
	for (int i = 0; i < VFT_BPF_MAX_DATA / VFT_BPF_PAGE + 1; i++) {
		if (off >= len)
			break;
		if (bpf_probe_read_user(&probe, 1, (void *)(addr + off)) != 0)
			return off;
		off += VFT_BPF_PAGE - ((addr + off) & (VFT_BPF_PAGE - 1));
	}
	return len;
}

static long vma_found(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	return 0;
}

/* Whether addr lies in a mapping of the calling process: a read that failed
 * there met a page not resident, not a bad pointer. A busy mmap lock
 * (-EBUSY) leaves it unknown, which counts as mapped: never blame the
 * caller without knowing. */
static __always_inline int mapped(__u64 addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return bpf_find_vma(task, addr, vma_found, NULL, 0) != -2; /* -ENOENT: no mapping there */
}

/* Reads len bytes into dst; returns how many leading bytes were readable
 * (the rest is not sent). Sizes are 64-bit here: a 32-bit one is widened
 * through a copy whose bounds the verifier does not connect to it. */
static __always_inline __u32 read_prefix(__u8 *dst, __u64 addr, __u32 len32)
{
	__u64 len = len32;
	if (len > VFT_BPF_MAX_DATA)
		len = VFT_BPF_MAX_DATA;
	if (len == 0 || bpf_probe_read_user(dst, len, (void *)addr) == 0)
		return (__u32)len;
	__u64 ok = first_fault(addr, (__u32)len);
	/* every page probed fine, yet the whole read failed: say nothing was read */
	if (ok >= len || ok == 0)
		return 0;
	if (ok > VFT_BPF_MAX_DATA)
		return 0;
	if (bpf_probe_read_user(dst, ok, (void *)addr) != 0)
		return 0;
	return (__u32)ok;
}

/* The capture rules of src/capture.c, with the ring's size as one more cap. */
static __always_inline void capture_entry(struct vft_ev_entry *e, __u8 *data, const struct vft_bpf_rule *r)
{
	__u32 lim = r->cap != 0 && r->cap < payload_cap ? r->cap : payload_cap;
	e->h.len = 0;
	if (r->kind == VFT_RULE_FIXED || r->kind == VFT_RULE_SIZED) {
		__u32 want = r->size;
		if (r->kind == VFT_RULE_SIZED) {
			__u32 argsz;
			if (bpf_probe_read_user(&argsz, 4, (void *)e->arg) != 0) {
				e->want_len = r->minsz;
				e->flags |= VFT_BPF_IN_FAULT | (mapped(e->arg) ? VFT_BPF_IN_UNAVAIL : 0);
				e->in_fault = 0;
				return;
			}
			want = argsz > r->minsz ? argsz : r->minsz;
		}
		e->want_len = want;
		__u32 len = want;
		if (len > lim) {
			len = lim;
			e->flags |= VFT_BPF_TRUNCATED;
		}
		__u32 got = read_prefix(data, e->arg, len);
		if (got < len && got < VFT_BPF_MAX_DATA) {
			e->flags |= VFT_BPF_IN_FAULT | (mapped(e->arg + got) ? VFT_BPF_IN_UNAVAIL : 0);
			e->in_fault = got;
		}
		e->h.len = got;
		return;
	}
	if (r->kind == VFT_RULE_CSTRING) {
		/* lim + 2 bytes tell "exactly lim, then NUL" from "longer" */
		if (lim > VFT_BPF_MAX_DATA - 2)
			lim = VFT_BPF_MAX_DATA - 2;
		__u64 size = (__u64)lim + 2;
		if (size > VFT_BPF_MAX_DATA)
			size = VFT_BPF_MAX_DATA;
		long n = bpf_probe_read_user_str(data, size, (void *)e->arg);
		if (n > 0) {
			__u32 slen = (__u32)n - 1;
			if (slen > lim) {
				e->h.len = lim;
				e->want_len = lim + 1;
				e->flags |= VFT_BPF_TRUNCATED;
			} else {
				e->h.len = e->want_len = slen;
			}
			return;
		}
		__u32 ok = first_fault(e->arg, (__u32)size);
		e->flags |= VFT_BPF_IN_FAULT | (mapped(e->arg + ok) ? VFT_BPF_IN_UNAVAIL : 0);
		e->in_fault = ok;
		e->h.len = e->want_len = read_prefix(data, e->arg, ok);
	}
}

/* ---- fd paths, as readlink(/proc/PID/fd/N) shows them ---- */

#define PATH_DEPTH 16

struct fdkey {
	__u32 tgid;
	__u32 fd;
};

/* The file an fd was last described as, and in which exec of its process:
 * each path is sent once, again when the fd is replaced. */
struct fdseen {
	__u64 file;
	__u32 gen;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fdkey);
	__type(value, struct fdseen);
} fd_files SEC(".maps");

/* Execs seen per process: an exec closes close-on-exec fds silently. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} exec_gen SEC(".maps");

struct pathbuf {
	struct vft_ev_fd_path ev;
	/* slack past PATH_MAX: a name is copied at an offset below PATH_MAX, up to
	 * 256 bytes; the whole value is 1024 bytes, so a masked size fits it */
	char buf[1024 - sizeof(struct vft_ev_fd_path)];
};

_Static_assert(sizeof(struct pathbuf) == 1024, "pathbuf is a power of two");
/* an EXEC record is built in a pathbuf too */
_Static_assert(sizeof(struct vft_ev_exec) == sizeof(struct vft_ev_fd_path), "EXEC and FD_PATH heads differ");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} pathbuf SEC(".maps");

static __always_inline struct file *file_of(__u64 fd)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Appends src (a kernel string) at *off; false once the path is full. */
static __always_inline int append(char *buf, __u64 *off, const void *src)
{
	__u64 at = *off;
	if (at >= VFT_BPF_PATH_MAX)
		return 0;
	at &= VFT_BPF_PATH_MAX - 1;
	long n = bpf_probe_read_kernel_str(buf + at, 256, src);
	if (n <= 0)
		return 1;
	*off = at + (__u64)n - 1; /* the NUL is overwritten by what follows */
	return 1;
}

/* The path of a dentry in its mount tree, walking up across mounts to the
 * root of the namespace's tree, as d_path does. The walks run under
 * bpf_loop: their bodies are verified once, not once per iteration. */
struct walk_up {
	struct dentry *d;
	struct mount *m;
	__u32 n;
	const unsigned char *names[PATH_DEPTH];
};

static long walk_up_step(__u32 i, struct walk_up *w)
{
	struct dentry *d = w->d;
	struct mount *m = w->m;
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (parent == m || !parent)
			return 1;
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = parent;
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(d, d_parent);
	if (up == d || !up || w->n >= PATH_DEPTH)
		return 1;
	w->names[w->n & (PATH_DEPTH - 1)] = BPF_CORE_READ(d, d_name.name);
	w->n++;
	w->d = up;
	return 0;
}

struct walk_down {
	struct walk_up *up;
	char *buf;
	__u64 off;
};

static long walk_down_step(__u32 i, struct walk_down *w)
{
	__u32 n = w->up->n;
	if (i >= n || w->off >= VFT_BPF_PATH_MAX)
		return 1;
	w->buf[w->off & (VFT_BPF_PATH_MAX - 1)] = '/';
	w->off++;
	return append(w->buf, &w->off, w->up->names[(n - 1 - i) & (PATH_DEPTH - 1)]) ? 0 : 1;
}

static __always_inline __u64 walk(char *buf, struct dentry *d, struct mount *m)
{
	struct walk_up up = {d, m, 0, {}};
	bpf_loop(PATH_DEPTH * 2, walk_up_step, &up, 0);
	if (up.n == 0) {
		buf[0] = '/';
		return 1;
	}
	struct walk_down down = {&up, buf, 0};
	bpf_loop(PATH_DEPTH, walk_down_step, &down, 0);
	return down.off;
}

static const char DELETED[] = " (deleted)";

/* What readlink(2) of /proc/PID/fd/N or /proc/PID/exe shows for f, into
 * buf (at most VFT_BPF_PATH_MAX bytes); returns its length. */
static __always_inline __u64 file_path(char *buf, struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	unsigned long magic = BPF_CORE_READ(d, d_sb, s_magic);
	__u64 len = 0; /* 64-bit: see read_prefix */
	if (magic == ANON_INODE_FS_MAGIC) {
		__u64 args[1] = {(__u64)BPF_CORE_READ(d, d_name.name)};
		long n = bpf_snprintf(buf, 256, "anon_inode:%s", args, sizeof(args));
		len = n > 1 ? (__u64)n - 1 : 0;
	} else if (magic == PIPEFS_MAGIC || magic == SOCKFS_MAGIC) {
		__u64 args[1] = {BPF_CORE_READ(d, d_inode, i_ino)};
		long n = bpf_snprintf(buf, 64, magic == PIPEFS_MAGIC ? "pipe:[%lu]" : "socket:[%lu]", args, sizeof(args));
		len = n > 1 ? (__u64)n - 1 : 0;
	} else {
		struct mount *m = (void *)vm - bpf_core_field_offset(struct mount, mnt);
		len = walk(buf, d, m);
		/* an unlinked file: readlink says so */
		if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d && len < VFT_BPF_PATH_MAX) {
			__u64 off = len;
			append(buf, &off, DELETED);
			len = off;
		}
	}
	return len > VFT_BPF_PATH_MAX ? VFT_BPF_PATH_MAX : len;
}

/* Sends the path of fd when this process has not been told it for this file. */
static __always_inline void send_path(__u64 id, __u64 fd)
{
	if (fd > 0x7fffffff)
		return;
	struct file *f = file_of(fd);
	if (!f)
		return;
	__u32 tgid = id >> 32;
	__u32 *g = bpf_map_lookup_elem(&exec_gen, &tgid);
	struct fdseen now = {(__u64)f, g ? *g : 0, 0};
	struct fdkey k = {tgid, (__u32)fd};
	struct fdseen *seen = bpf_map_lookup_elem(&fd_files, &k);
	if (seen && seen->file == now.file && seen->gen == now.gen)
		return;
	__u32 zero = 0;
	struct pathbuf *pb = bpf_map_lookup_elem(&pathbuf, &zero);
	if (!pb)
		return;
	__u64 len = file_path(pb->buf, f);
	if (len > VFT_BPF_PATH_MAX)
		len = VFT_BPF_PATH_MAX;
	header(&pb->ev.h, VFT_EV_FD_PATH, id, (__u32)len);
	pb->ev.fd = (__u32)fd;
	pb->ev.pad = 0;
	if (emit(pb, sizeof(pb->ev) + len) == 0)
		bpf_map_update_elem(&fd_files, &k, &now, BPF_ANY);
}

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
	if (!reported(id >> 32))
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
	struct vft_bpf_rule none = {VFT_RULE_NONE, 0, 0, 0};
	struct vft_bpf_rule *r = bpf_map_lookup_elem(&rules, &req);
	if (!r)
		r = &none;
	e->kind = r->kind;
	capture_entry(e, s->raw + sizeof(*e), r);
	__u64 len = bounded(e->h.len);
	count(VFT_CNT_CALLS);
	if (emit(e, sizeof(*e) + len) != 0)
		return 0; /* no entry, no exit: one call counted lost */
	__u32 tid = (__u32)id;
	struct inflight f = {ctx->arg, r->kind == VFT_RULE_CSTRING ? 0 : (__u32)len, r->kind};
	bpf_map_update_elem(&calls, &tid, &f, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int on_ioctl_exit(struct sys_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct inflight *f = bpf_map_lookup_elem(&calls, &tid);
	if (!f)
		return 0;
	__u64 arg = f->arg;
	__u32 len = (__u32)bounded(f->len);
	bpf_map_delete_elem(&calls, &tid);
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
	if (!t && !trace_all)
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	/* a new process is followed too; whether it is reported, its parent says */
	if (t && ctgid != ptgid) {
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
	if (!t && !trace_all)
		return 0;
	__u32 tid = (__u32)id;
	bpf_map_delete_elem(&calls, &tid);
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
