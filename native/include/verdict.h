/* Emulation verdicts: how the engine lets its caller answer an ioctl in
 * place of the kernel (docs/recording-format.md, "PENDING" and "Verdicts").
 *
 * With vft_config.verdict_fd >= 0, at each captured call's entry the engine
 * writes a PENDING record (the IOCTL layout, type 4, no exit part), flushes
 * the stream and reads one verdict message from verdict_fd, then applies it:
 *
 *   RUN     let the kernel execute the call as usual;
 *   RETURN  copy the given blocks into the tracee, skip the call and make it
 *           return `ret` (the IOCTL record then carries the EMULATED flag);
 *   OPENAT  replace the call with openat(AT_FDCWD, path, open_flags), so the
 *           tracee gets a real fd (EMULATED; ret is openat's result).
 *
 * The PENDING record's payload is read up to the rule's own cap (vft_rule.cap;
 * the global payload_cap only when the rule has none), so the verdict is
 * given on what the kernel would read; the IOCTL record that follows keeps
 * what payload_cap allows, exactly as a capped capture would have taken it.
 *
 * A message is a 32-byte header followed by `body_len` bytes, every integer
 * in the engine's native byte order:
 *   header: u32 magic 'VFTV' (0x56544656), u32 action, s64 ret,
 *           u32 nwrites, u32 path_len, u32 open_flags, u32 body_len
 *   body:   nwrites x { u64 addr; u32 len; u32 zero; u8 bytes[len], padded to 8 }
 *           then path_len bytes of path (no NUL), padded to 8.
 * A malformed message, EOF or a read error turns emulation off for the rest
 * of the session (calls then run): the tracee is never left stopped. */
/* Notices: with vft_config.notify_type set the calls reach the caller
 * without a stop, through a seccomp listener (vft_notify_next), and each
 * CALL notice is answered with one verdict message as above (RUN lets the
 * kernel execute the call, whose result is then not seen: the record says
 * NO_EXIT; OPENAT opens the path in the tracer and installs the fd in the
 * caller). A notice is a 64-byte header, integers in native byte order,
 * followed by the fd path and the argument bytes read at entry:
 *   u32 kind (CALL 1, FORK 2), u32 len (the whole notice, padded to 8),
 *   u32 pid, u32 tid, u32 parent (FORK: the process it was forked from),
 *   u32 in_len, u32 in_fault (offset where reading failed, 0xffffffff
 *   none), u32 path_len, u64 fd, u64 request, u64 arg,
 *   u32 file (the open file's token: the same for every fd naming that
 *   open file, dups and inherited ones too; 0 unknown), u32 zero;
 *   then path_len bytes of path (no NUL), then in_len bytes of argument.
 * A FORK notice (pid = the child) comes before any call of the child. */

#ifndef VFT_VERDICT_H
#define VFT_VERDICT_H

#include <stdint.h>

#define VFT_VERDICT_MAGIC 0x56544656u
#define VFT_VERDICT_HEADER_LEN 32u
#define VFT_VERDICT_MAX_BODY (16u << 20)

enum vft_verdict_action {
	VFT_VERDICT_RUN = 0,
	VFT_VERDICT_RETURN = 1,
	VFT_VERDICT_OPENAT = 2,
};

enum vft_notice_kind {
	VFT_NOTICE_CALL = 1,
	VFT_NOTICE_FORK = 2,
};
#define VFT_NOTICE_HEADER_LEN 64u
#define VFT_NOTICE_NO_FAULT 0xffffffffu

/* A notice's header, as described above. */
struct vft_notice {
	uint32_t kind, len;
	uint32_t pid, tid, parent;
	uint32_t in_len, in_fault, path_len;
	uint64_t fd, request, arg;
	uint32_t file, reserved;
};

/* Record type of a PENDING record. */
#define VFT_REC_PENDING 4
/* IOCTL record flag: the reply came from the verdict, not the kernel. */
#define VFT_IOF_EMULATED 0x10

#endif
