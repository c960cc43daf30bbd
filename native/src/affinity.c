/* Keeping the consumer thread off the CPU where tracee and tracer alternate
 * (see vft_keep_caller_apart in vftrace.h). Thread-local: only the calling
 * thread moves. */
#include <sched.h>

#include "../include/vftrace.h"

static __thread cpu_set_t saved;
static __thread int have_saved;

VFT_API int vft_keep_caller_apart(int restore)
{
    if (restore) {
        if (!have_saved) return -1;
        have_saved = 0;
        return sched_setaffinity(0, sizeof saved, &saved) == 0 ? 0 : -1;
    }
    cpu_set_t now;
    if (sched_getaffinity(0, sizeof now, &now) != 0 || CPU_COUNT(&now) < 2) return -1;
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &now)) last = c;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return -1;
    if (!have_saved) {
        saved = now;
        have_saved = 1;
    }
    return last;
}
