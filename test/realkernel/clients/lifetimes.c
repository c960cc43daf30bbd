/* lifetimes: what the kernel undoes when the last reference to a VFIO file
 * goes away, with nobody asking it to.
 *
 * cases: one forked child per case, as test harnesses run them; each child
 *   sets up container, group and device, maps, enables MSI and exits without
 *   closing anything. The next child must find the group free (VIABLE, not
 *   CONTAINER_SET), an IOVA space with nothing mapped and MSI off.
 * reopen: the same process closes everything and starts again: a new
 *   container is a new, empty one.
 * dup: a container reached through dup() is the same container.
 * held: a device fd holds its group; closing the group fd alone changes
 *   nothing, closing the device too detaches the group, and the container
 *   (still open) loses its IOMMU with its last group. */
#include "common.h"

#include <sys/wait.h>

#define CASES 3

static int err(int rc)
{
	return rc < 0 ? errno : 0;
}

static uint32_t group_flags(int group)
{
	struct vfio_group_status st = { .argsz = sizeof st };
	return ioctl(group, VFIO_GROUP_GET_STATUS, &st) < 0 ? 0xffffffffu : st.flags;
}

static int msi_trigger(struct rk *r)
{
	return rk_set_irqs(r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0);
}

/* One test case in a child of its own: nothing is closed, the child exits. */
static void one_case(const char *addr, int n)
{
	struct rk r;
	rk_open(&r, addr, 0, 0);
	printf("case %d group-flags 0x%x\n", n, group_flags(r.group));
	printf("case %d set-container %d\n", n, err(ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container)));
	printf("case %d set-iommu %d\n", n, err(ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)));
	r.device = ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr);
	printf("case %d device %d\n", n, err(r.device));
	rk_buffer(&r);
	printf("case %d map %d\n", n, err(rk_map(&r, (uint64_t)r.buf, 0, 0x100000, RW)));
	/* MSI was off when the case began: triggering it is refused. */
	printf("case %d msi-trigger-before %d\n", n, err(msi_trigger(&r)));
	int efd = eventfd(0, EFD_CLOEXEC);
	printf("case %d msi-enable %d\n", n, err(rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
							     VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd, 1)));
	fflush(stdout);
	_exit(0);
}

static void cases(const char *addr)
{
	for (int n = 1; n <= CASES; n++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			rk_die("fork");
		if (pid == 0)
			one_case(addr, n);
		int status = 0;
		if (waitpid(pid, &status, 0) != pid)
			rk_die("waitpid");
		printf("case %d exit %d\n", n, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

static void reopen(const char *addr)
{
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	rk_buffer(&r); /* the one DMA buffer of the later cases, too */
	rk_map(&r, (uint64_t)r.buf, 0, 0x100000, RW);
	close(r.device);
	close(r.group);
	close(r.container);
	rk_open(&r, addr, 0, 0);
	printf("reopen group-flags 0x%x\n", group_flags(r.group));
	printf("reopen set-container %d\n", err(ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container)));
	printf("reopen set-iommu %d\n", err(ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)));
	printf("reopen map %d\n", err(rk_map(&r, (uint64_t)RK_DMA_BASE, 0, 0x100000, RW)));
	close(r.group);
	close(r.container);
}

static void dup_container(const char *addr)
{
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 0);
	rk_map(&r, (uint64_t)RK_DMA_BASE, 0x200000, 0x100000, RW);
	int copy = dup(r.container);
	close(r.container);
	r.container = copy;
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0x200000, .size = 0x100000 };
	printf("dup unmap %d size 0x%llx\n", err(ioctl(copy, VFIO_IOMMU_UNMAP_DMA, &u)), (unsigned long long)u.size);
	close(r.group);
	close(copy);
}

static void held(const char *addr)
{
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	close(r.group);
	struct vfio_device_info di = { .argsz = sizeof di };
	printf("held device-info %d\n", err(ioctl(r.device, VFIO_DEVICE_GET_INFO, &di)));
	printf("held map %d\n", err(rk_map(&r, (uint64_t)RK_DMA_BASE, 0x300000, 0x100000, RW)));
	close(r.device);
	char path[64];
	snprintf(path, sizeof path, "/dev/vfio/%d", r.groupno);
	r.group = open(path, O_RDWR);
	if (r.group < 0)
		rk_die(path);
	printf("held group-flags 0x%x\n", group_flags(r.group));
	printf("held set-container %d\n", err(ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container)));
	printf("held set-iommu %d\n", err(ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)));
	/* The old mapping went with the old IOMMU: the same IOVA maps again. */
	printf("held map-again %d\n", err(rk_map(&r, (uint64_t)RK_DMA_BASE, 0x300000, 0x100000, RW)));
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	cases(addr);
	reopen(addr);
	dup_container(addr);
	held(addr);
	return 0;
}
