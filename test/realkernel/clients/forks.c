/* forks: the parent sets up container, group and device and maps a buffer,
 * then forks. The child uses the inherited container, group and device fds,
 * maps and unmaps a slice of its own copy of the buffer, opens a container
 * of its own, prints what it saw and exits; the parent waits for it and goes
 * on with the same fds. Recorded with and without -f: the child's answers
 * (printed) must be the same either way, only the recording differs. */
#include "common.h"

#include <sys/wait.h>

static void child(struct rk *r)
{
	struct vfio_device_info di = { .argsz = sizeof di };
	int rc = ioctl(r->device, VFIO_DEVICE_GET_INFO, &di);
	printf("child device-info %d regions %u irqs %u\n", rc < 0 ? errno : 0, di.num_regions, di.num_irqs);
	struct vfio_group_status st = { .argsz = sizeof st };
	rc = ioctl(r->group, VFIO_GROUP_GET_STATUS, &st);
	printf("child group-status %d flags 0x%x\n", rc < 0 ? errno : 0, st.flags);
	struct vfio_region_info ri = { .argsz = sizeof ri, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	rc = ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &ri);
	printf("child config-region %d size 0x%llx\n", rc < 0 ? errno : 0, (unsigned long long)ri.size);
	rc = rk_map(r, (uint64_t)r->buf + 0x100000, 0x100000, 0x100000, RW);
	printf("child map %d\n", rc < 0 ? errno : 0);
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0x100000, .size = 0x100000 };
	rc = ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &u);
	printf("child unmap %d size 0x%llx\n", rc < 0 ? errno : 0, (unsigned long long)u.size);
	/* A container of its own: the next free fd, a fresh /dev/vfio/vfio. */
	int own = open("/dev/vfio/vfio", O_RDWR);
	if (own < 0)
		rk_die("/dev/vfio/vfio in the child");
	int api = ioctl(own, VFIO_GET_API_VERSION, 0);
	int v2 = ioctl(own, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	printf("child own-container fd %d api %d type1v2 %d\n", own, api, v2);
	close(own);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	rk_buffer(&r);
	struct vfio_device_info di = { .argsz = sizeof di };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	rk_map(&r, (uint64_t)r.buf, 0, 0x100000, RW);

	fflush(stdout); /* the child must not print the parent's buffer again */
	pid_t pid = fork();
	if (pid < 0)
		rk_die("fork");
	if (pid == 0)
		child(&r);
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		rk_die("waitpid");
	printf("child-exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

	/* The parent's mapping outlived the child; the child's slice is gone. */
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0x100000, .size = 0x100000 };
	ioctl(r.container, VFIO_IOMMU_UNMAP_DMA, &u);
	printf("parent unmap-child-slice size 0x%llx\n", (unsigned long long)u.size);
	u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof u, .iova = 0, .size = 0x100000 };
	ioctl(r.container, VFIO_IOMMU_UNMAP_DMA, &u);
	printf("parent unmap size 0x%llx\n", (unsigned long long)u.size);
	close(r.device);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	return 0;
}
