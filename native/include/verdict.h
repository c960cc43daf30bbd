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

/* Record type of a PENDING record. */
#define VFT_REC_PENDING 4
/* IOCTL record flag: the reply came from the verdict, not the kernel. */
#define VFT_IOF_EMULATED 0x10

#endif
