/* What the capture program (capture.bpf.c) writes to its ring buffer and
 * reads from its maps: shared by the BPF side and the engine (src/bpf*.c).
 * Fixed-width types only, no padding holes: both sides compile it. */
#ifndef VFT_BPF_EVENTS_H
#define VFT_BPF_EVENTS_H

#include <linux/types.h>

/* Payload bytes one side of a call can carry through the ring (a power of
 * two: the verifier bounds reads with a mask). Larger payloads are cut and
 * flagged TRUNCATED, as -s does. */
#define VFT_BPF_MAX_DATA 16384u
#define VFT_BPF_PAGE 4096u

enum vft_bpf_event {
	VFT_EV_ENTRY = 1,   /* a matching ioctl entered: its argument bytes */
	VFT_EV_EXIT = 2,    /* that call returned: the bytes again */
	VFT_EV_FORK = 3,    /* a traced thread created a thread or process */
	VFT_EV_EXEC = 4,    /* a traced process exec'd */
	VFT_EV_GONE = 5,    /* a traced thread exited (group_dead: the last one) */
	VFT_EV_FD_GONE = 6, /* close/dup2/dup3 replaced an fd: forget its path */
	VFT_EV_FD_PATH = 7, /* the path of an fd a call is about to use, on first sight */
	VFT_EV_SIGNAL = 8,  /* a signal is being delivered to a traced thread */
	VFT_EV_SEEN = 9,    /* host-wide mode: a process's first matching ioctl, with its comm */
};

/* Longest fd path the program reconstructs (the ptrace engine reads 512). */
#define VFT_BPF_PATH_MAX 512u

/* Every ring record starts with this. */
struct vft_ev_hdr {
	__u32 type; /* enum vft_bpf_event */
	__u32 pid;  /* thread-group id */
	__u32 tid;
	__u32 len;  /* payload bytes after the fixed part */
	__u64 ts;   /* CLOCK_MONOTONIC ns */
};

/* Record flags the program sets (the recording's IOCTL flags). A fault
 * where the address lies in a mapping is a page not resident, which
 * bpf_probe_read_user cannot fault in: UNAVAIL says so, the caller is not
 * to blame. */
#define VFT_BPF_TRUNCATED 0x1u
#define VFT_BPF_IN_FAULT 0x2u
#define VFT_BPF_OUT_FAULT 0x4u
#define VFT_BPF_IN_UNAVAIL 0x20u
#define VFT_BPF_OUT_UNAVAIL 0x40u

struct vft_ev_entry {
	struct vft_ev_hdr h;
	__u64 fd, request, arg;
	__u32 want_len;
	__u32 in_fault; /* 0xffffffff: none */
	__u32 flags;
	__u32 kind; /* the rule applied (enum vft_rule_kind) */
	char comm[16]; /* host-wide: the process's name (else empty), for the engine
	                * to introduce it if this call overtook its SEEN */
	/* then h.len bytes */
};

struct vft_ev_exit {
	struct vft_ev_hdr h;
	__s64 ret;
	__u32 out_fault;
	__u32 flags;
	/* then h.len bytes */
};

struct vft_ev_fork {
	struct vft_ev_hdr h; /* the creating thread */
	__u32 child_pid;     /* its thread-group id */
	__u32 child_tid;
	char comm[16];       /* the child's name: its parent's, at fork */
};

struct vft_ev_seen {
	struct vft_ev_hdr h; /* the thread making the call */
	char comm[16];       /* its name, as /proc/PID/comm shows it */
};

struct vft_ev_exec {
	struct vft_ev_hdr h;
	__u32 old_tid; /* the thread that exec'd when it was not the leader, else 0 */
	__u32 pad;
	/* then h.len bytes of the new program's path (no NUL) */
};

struct vft_ev_gone {
	struct vft_ev_hdr h;
	__s32 exit_code; /* as wait(2) reports it */
	__u32 group_dead;
};

struct vft_ev_fd_path {
	struct vft_ev_hdr h; /* h.len: bytes of path after the fixed part */
	__u32 fd;
	__u32 pad;
};

struct vft_ev_signal {
	struct vft_ev_hdr h;
	__u32 sig;
	__u32 pad;
};

struct vft_ev_fd_gone {
	struct vft_ev_hdr h;
	__u32 fd;
	__u32 pad;
};

/* The rule kinds of include/vftrace.h (enum vft_rule_kind), which the BPF
 * build cannot include; src/bpf.c checks that the numbers agree. */
enum vft_bpf_rule_kind {
	VFT_BPF_RULE_NONE = 0,
	VFT_BPF_RULE_INTEGER = 1,
	VFT_BPF_RULE_FIXED = 2,
	VFT_BPF_RULE_SIZED = 3,
	VFT_BPF_RULE_CSTRING = 4,
};

/* Value of the rules map, keyed by the request's low 32 bits. */
struct vft_bpf_rule {
	__u32 kind, size, minsz, cap;
};

/* Value of the targets map, keyed by thread-group id. */
struct vft_bpf_target {
	__u32 report;   /* its events reach the recording (else followed for its children) */
	__u32 children; /* the report value its new processes get (-f) */
};

/* Counters the program keeps (per-CPU array, summed by the engine). */
enum { VFT_CNT_DROPPED = 0, VFT_CNT_N = 1 };

#endif
