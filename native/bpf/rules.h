/* Reading a call's argument bytes under the capture rules (src/capture.c),
 * for capture.bpf.c, which includes it after its maps and rodata: a BPF
 * program is one translation unit.
 *
 * bpf_probe_read_user cannot fault a page in. A read that fails at an
 * address inside a mapping met a page not resident: the payload is marked
 * unavailable, never invented, and the caller is not blamed. */
#ifndef VFT_BPF_RULES_H
#define VFT_BPF_RULES_H

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
	if (r->kind == VFT_BPF_RULE_FIXED || r->kind == VFT_BPF_RULE_SIZED) {
		__u32 want = r->size;
		if (r->kind == VFT_BPF_RULE_SIZED) {
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
	if (r->kind == VFT_BPF_RULE_CSTRING) {
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

#endif
