/* The standalone recorder's parts besides main(). */
#ifndef VFR_RECORDER_H
#define VFR_RECORDER_H

/* --selftest-synthetic FILE: a header and a few synthetic records written
 * through the engine's record writer, without ptrace. Returns an exit code. */
int vfr_selftest(const char *path);

#endif
