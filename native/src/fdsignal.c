/* Adding to an eventfd another process holds (see vft_eventfd_signal in
 * vftrace.h): the fd is duplicated into the caller (vft_peer_fd_hold), which
 * a tracer may do, since an eventfd cannot be reopened through /proc. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "../include/vftrace.h"

VFT_API int vft_eventfd_signal(int pid, int fd, uint64_t value)
{
    int mine = vft_peer_fd_hold(pid, fd);
    if (mine < 0) return mine;
    ssize_t n = write(mine, &value, sizeof value);
    int err = n == (ssize_t)sizeof value ? 0 : errno;
    close(mine);
    return -err;
}
