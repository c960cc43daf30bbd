/* Telling another process's open files apart (see vft_peer_fd_hold and
 * vft_peer_fd_same in vftrace.h): two fds are the same open file when kcmp
 * says so, and a reference taken with pidfd_getfd lets the caller ask that
 * question after the fd it came from is gone. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../include/vftrace.h"

#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

VFT_API int vft_peer_fd_hold(int pid, int fd)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -errno;
    int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    int err = mine < 0 ? errno : 0;
    close(pidfd);
    return mine < 0 ? -err : mine;
#else
    (void)pid, (void)fd;
    return -ENOSYS;
#endif
}

VFT_API int vft_peer_fd_same(int pid, int fd, int mine)
{
#if defined(SYS_kcmp)
    long r = syscall(SYS_kcmp, (long)getpid(), (long)pid, KCMP_FILE, (long)mine, (long)fd);
    if (r < 0) return -errno;
    return r == 0 ? 1 : 0;
#else
    (void)pid, (void)fd, (void)mine;
    return -ENOSYS;
#endif
}

void vft_peer_fd_release(int mine)
{
	if (mine >= 0)
		close(mine);
}
