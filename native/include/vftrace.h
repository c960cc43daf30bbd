/* vftrace: the tracer engine's C ABI.
 *
 * The engine stops a set of processes on ioctl(2) calls whose request type
 * byte matches a configured value, captures their argument memory according
 * to generic rules, and writes a byte stream in the vfiotrace recording
 * format (docs/recording-format.md) to a file descriptor. It knows nothing
 * about VFIO: the type byte and the capture rules come from the caller.
 *
 * All ptrace work happens on one thread owned by the session; the functions
 * below only talk to that thread and never block for long, except vft_wait.
 */
#ifndef VFTRACE_H
#define VFTRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFT_ABI_VERSION 3

/* Keeps every record well below the readers' 256 MiB record limit. */
#define VFT_MAX_PAYLOAD_CAP (64u << 20)

#if defined(__GNUC__)
#define VFT_API __attribute__((visibility("default")))
#else
#define VFT_API
#endif

enum vft_mode {
	VFT_MODE_SPAWN = 0,  /* fork + exec argv under a seccomp filter */
	VFT_MODE_ATTACH = 1, /* PTRACE_SEIZE running processes, syscall stops */
	VFT_MODE_ALL = 2,    /* every process on the host, from its first matching call (eBPF backend only) */
};

/* Same values as the recording's IOCTL.rule_kind. */
enum vft_rule_kind {
	VFT_RULE_NONE = 0,
	VFT_RULE_INTEGER = 1,
	VFT_RULE_FIXED = 2,
	VFT_RULE_SIZED = 3,
	VFT_RULE_CSTRING = 4,
};

/* One capture rule; requests are compared on their low 32 bits. */
struct vft_rule {
	uint32_t request;
	uint32_t kind;  /* enum vft_rule_kind */
	uint32_t size;  /* FIXED: bytes to read */
	uint32_t minsz; /* SIZED: read at least this much */
	uint32_t cap;   /* per-rule upper bound (the global cap also applies) */
};

struct vft_config {
	uint32_t abi_version; /* VFT_ABI_VERSION */
	int32_t mode;         /* enum vft_mode */
	int32_t follow_forks; /* report events of forked children (-f) */
	int32_t ioctl_type;   /* type byte to stop on, 0..255; -1 = every ioctl */
	uint32_t payload_cap; /* global capture cap in bytes (-s), at most VFT_MAX_PAYLOAD_CAP; 0 = capture nothing.
	                       * With verdict_fd >= 0 it bounds only what IOCTL records keep: the
	                       * PENDING record carries each payload up to its rule's own cap */
	int32_t out_fd;       /* stream destination; -1 = make a pipe (vft_read_fd) */
	/* spawn mode: argc strings, each NUL-terminated, back to back */
	const char *argv;
	uint32_t argc;
	/* spawn mode: envc "NAME=value" strings like argv; NULL = inherit */
	const char *envp;
	uint32_t envc;
	const char *cwd; /* spawn mode: working directory, NULL = inherit */
	/* attach mode */
	const int32_t *pids;
	uint32_t npids;
	const struct vft_rule *rules;
	uint32_t nrules;
	const char *producer; /* header TLV 6, e.g. "vfiotrace 0.1.0" */
	/* emulation: read end of the verdict pipe (include/verdict.h); -1 = off */
	int32_t verdict_fd;
	int32_t backend;  /* enum vft_backend */
	uint32_t bpf_flags; /* VFT_BPF_*: eBPF backend options */
	/* emulation through a seccomp listener (include/verdict.h, "Notices"):
	 * ioctls of this type byte are answered by the caller via
	 * vft_notify_next/vft_notify_answer instead of stopping the tracee:
	 * VFT_NOTIFY_ON | the type byte; 0 = off. Spawn mode, ptrace backend,
	 * without verdict_fd. */
	uint32_t notify_type;
};

#define VFT_NOTIFY_ON 0x100u

enum vft_backend {
	VFT_BACKEND_PTRACE = 0, /* stop the tracees (seccomp filter or syscall stops) */
	VFT_BACKEND_BPF = 1,    /* capture in the kernel, never stop them (no emulation) */
};

/* vft_config.bpf_flags */
#define VFT_BPF_SMALL_RING 0x1u /* tests: a 16 KiB ring, read only once a spawned command has exited, so drops are certain */

/* Values of vft_result.reason: the END record's flags. */
enum vft_end_reason {
	VFT_END_EXITED = 1,
	VFT_END_KILLED = 2,
	VFT_END_DETACHED = 3,
	VFT_END_ERROR = 4,
};

struct vft_result {
	int32_t reason; /* enum vft_end_reason */
	int32_t status; /* exit code or signal number */
	uint64_t events; /* IOCTL records written */
	char text[256];  /* error or exec-failure message, "" otherwise */
};

struct vft_session;

/* Starts tracing. Returns NULL and a message in err on failure (no such
 * pid, attach not permitted, bad config, ...). In spawn mode a failing exec
 * is not a start error: the END record says exit status 127 and carries the
 * message, as the session's result does. */
VFT_API struct vft_session *vft_start(const struct vft_config *cfg, char *err, size_t errlen);

/* The read end of the stream pipe when out_fd was -1 (else -1). The caller
 * owns it from then on. */
VFT_API int vft_read_fd(const struct vft_session *s);

/* The spawned child's pid, or the first attached pid. */
VFT_API int vft_main_pid(const struct vft_session *s);

/* Asks the tracer thread to detach from every traced thread and finish.
 * Returns once the tracer has seen the request (0), or -1 if the session is
 * already over. In-flight calls complete untraced; pending signals are
 * delivered; group-stopped threads stay stopped. Attach mode only: a
 * spawned command keeps its seccomp filter, and without a tracer its
 * matching ioctls would fail with ENOSYS, so in spawn mode this is
 * vft_end(s, SIGTERM). */
VFT_API int vft_detach(struct vft_session *s);

/* Ends a spawned command as strace does when it is interrupted: sends sig
 * to every traced process (the command and every descendant still traced),
 * keeps tracing while they handle it, and sends SIGKILL to whatever is
 * still there after a grace of VFT_END_GRACE_MS. The session then ends with
 * the command's own status. Returns once the tracer has seen the request
 * (0), or -1 if the session is already over. In attach mode it detaches. */
VFT_API int vft_end(struct vft_session *s, int sig);

#define VFT_END_GRACE_MS 1000

/* Sends sig to the main process (kill(2)). Returns 0 or -errno. */
VFT_API int vft_signal(struct vft_session *s, int sig);

/* Waits for the tracer thread to finish; fills out. Returns 0. */
VFT_API int vft_wait(struct vft_session *s, struct vft_result *out);

/* Frees a session after vft_wait. */
VFT_API void vft_free(struct vft_session *s);

VFT_API const char *vft_version(void);

/* The build id: 16 hex digits hashed from the engine's sources and build
 * recipe (native/Makefile), the same for every arch built from them. */
VFT_API const char *vft_build_id(void);

/* Moves the calling thread onto the last CPU of its affinity set, or back to
 * the set it had (restore != 0). At every traced call the tracee and the
 * tracer thread hand control to each other; on a machine with few CPUs a busy
 * consumer thread (the decoder) landing on their CPU delays each hand-off.
 * Call it after vft_start, so the tracer thread and the child keep the full
 * set. Returns the CPU chosen, 0 after a restore, or -1 (one CPU, or an
 * error: nothing changed). */
VFT_API int vft_keep_caller_apart(int restore);

/* Adds `value` to the eventfd (or writes 8 bytes to whatever file) that
 * process `pid` holds as `fd`, as the kernel's eventfd_signal would: how an
 * emulated kernel raises an interrupt the client asked to be told of.
 * Returns 0 or -errno (a write to a non-eventfd is the file's own answer). */
VFT_API int vft_eventfd_signal(int pid, int fd, uint64_t value);

/* A reference of the caller's own to the open file that process `pid` holds
 * as `fd` (pidfd_getfd): an fd to pass to vft_peer_fd_same and close when
 * done, or -errno. It keeps the file open: an emulated kernel holds it only
 * as a name for the file, never counts it as a user. */
VFT_API int vft_peer_fd_hold(int pid, int fd);

/* Whether process `pid`'s `fd` is the same open file (the same struct file,
 * not merely the same path) as the caller's `mine` (kcmp KCMP_FILE): 1 yes,
 * 0 no, -errno (EBADF: `fd` is not open in `pid`; ESRCH: no such process). */
VFT_API int vft_peer_fd_same(int pid, int fd, int mine);

/* Gives back a reference from vft_peer_fd_hold (closes it). */
VFT_API void vft_peer_fd_release(int mine);

/* ---- emulation through a seccomp listener (vft_config.notify_type) ----
 * One thread of the caller answers the session's calls, one at a time. */

/* A handle on the session's listener for vft_notify_*, usable from any one
 * thread; the session stays allocated until vft_notify_close too. Returns
 * the handle (>= 0) or -errno (ENODEV: the session has no listener). */
VFT_API int vft_notify_open(struct vft_session *s);

/* Waits up to timeout_ms for the next notice (verdict.h) and writes it into
 * msg. Returns its length, 0 when there was none (or vft_notify_wake was
 * called), -EPIPE once no process can send more, -ENOBUFS if cap is below
 * VFT_NOTICE_HEADER_LEN + 512 (the path) + the largest payload a call can
 * carry (the largest rule's cap, or payload_cap if larger), another -errno
 * if the listener failed. A CALL notice is answered before the next
 * vft_notify_next (else the kernel runs the call). */
VFT_API int vft_notify_next(int h, uint8_t *msg, uint32_t cap, int timeout_ms);

/* Answers the last CALL notice with a verdict message (verdict.h) and
 * records the call. Returns 0, or -errno: EINVAL for a malformed verdict
 * (the call then runs), ENOENT when the caller is gone. */
VFT_API int vft_notify_answer(int h, const uint8_t *verdict, uint32_t len);

/* vft_notify_answer, then vft_notify_next: one call into the engine per
 * emulated call. Returns what vft_notify_next returns (the answer's own
 * errors are the listener's business: the call was recorded either way). */
VFT_API int vft_notify_answer_next(int h, const uint8_t *verdict, uint32_t len, uint8_t *msg, uint32_t cap, int timeout_ms);

/* Makes a waiting or the next vft_notify_next return 0 at once. */
VFT_API int vft_notify_wake(int h);

/* Gives the handle back (after its last vft_notify_next); a call taken and
 * not answered runs on the kernel. */
VFT_API void vft_notify_close(int h);

#ifdef __cplusplus
}
#endif

#endif
