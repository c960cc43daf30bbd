/* Adding to an eventfd another process holds (see vft_eventfd_signal in
 * vftrace.h): the fd is duplicated into the caller with pidfd_getfd, which a
 * tracer may do, since an eventfd cannot be reopened through /proc. */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../include/vftrace.h"

VFT_API int vft_eventfd_signal(int pid, int fd, uint64_t value)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -errno;
    int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    int err = mine < 0 ? errno : 0;
    close(pidfd);
    if (mine < 0) return -err;
    ssize_t n = write(mine, &value, sizeof value);
    err = n == (ssize_t)sizeof value ? 0 : errno;
    close(mine);
    return -err;
#else
    (void)pid, (void)fd, (void)value;
    return -ENOSYS;
#endif
}
