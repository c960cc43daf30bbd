/* fd paths as readlink(/proc/PID/fd/N) shows them, rebuilt in the kernel
 * when a traced call is about to use an fd, and sent once per file: for
 * capture.bpf.c, which includes it after header() and emit(). */
#ifndef VFT_BPF_FDPATH_H
#define VFT_BPF_FDPATH_H

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

#endif
