/* attach: a client meant to be traced with `vfiotrace-record -p PID`.
 *
 * It sets up container, group and device, maps a buffer and starts a second
 * thread, all untraced; prints "ready" and blocks reading the FIFO
 * RK_ATTACH_GO. Whoever attaches writes a line there once the recorder has
 * seized every thread. Then both threads issue VFIO ioctls on the fds opened
 * before the attach; the client prints "done" and blocks reading
 * RK_ATTACH_END, during which the recorder is told to detach. Released again,
 * both threads issue more ioctls (which no recording may hold) and the
 * client exits 0. Every answer is printed, in a fixed order. */
#include "common.h"

#include <pthread.h>
#include <sys/stat.h>

#define RK_ATTACH_GO "/tmp/rk-attach-go"
#define RK_ATTACH_END "/tmp/rk-attach-end"

struct worker_state {
	struct rk *r;
	pthread_barrier_t *step;
	int irq, map, unmap, ext;
	uint64_t unmapped;
	int after_irq;
};

static void wait_line(const char *fifo)
{
	char line[16];
	int fd = open(fifo, O_RDONLY);
	if (fd < 0)
		rk_die(fifo);
	if (read(fd, line, sizeof line) <= 0)
		rk_die(fifo);
	close(fd);
}

static void *worker(void *arg)
{
	struct worker_state *w = arg;
	struct rk *r = w->r;
	pthread_barrier_wait(w->step); /* released: traced from here */
	struct vfio_irq_info ii = { .argsz = sizeof ii, .index = VFIO_PCI_INTX_IRQ_INDEX };
	w->irq = ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 ? errno : (int)ii.count;
	w->map = rk_map(r, (uint64_t)r->buf + 0x100000, 0x20000000, 0x100000, RW) < 0 ? errno : 0;
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0x20000000, .size = 0x100000 };
	w->unmap = ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &u) < 0 ? errno : 0;
	w->unmapped = u.size;
	w->ext = ioctl(r->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	pthread_barrier_wait(w->step); /* the main thread's calls are done too */
	pthread_barrier_wait(w->step); /* released after the detach */
	w->after_irq = ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 ? errno : (int)ii.count;
	return NULL;
}

static void fifo(const char *path)
{
	unlink(path);
	if (mkfifo(path, 0600) != 0)
		rk_die(path);
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	rk_buffer(&r);
	rk_map(&r, (uint64_t)r.buf, 0, 0x100000, RW);
	fifo(RK_ATTACH_GO);
	fifo(RK_ATTACH_END);
	pthread_barrier_t step;
	pthread_barrier_init(&step, NULL, 2);
	struct worker_state w = { .r = &r, .step = &step };
	pthread_t th;
	if (pthread_create(&th, NULL, worker, &w) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	wait_line(RK_ATTACH_GO);

	pthread_barrier_wait(&step);
	struct vfio_device_info di = { .argsz = sizeof di };
	int info = ioctl(r.device, VFIO_DEVICE_GET_INFO, &di) < 0 ? errno : 0;
	struct vfio_group_status st = { .argsz = sizeof st };
	int status = ioctl(r.group, VFIO_GROUP_GET_STATUS, &st) < 0 ? errno : 0;
	/* The mapping made before the attach: the kernel reports its size. */
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0, .size = 0x100000 };
	int unmap = ioctl(r.container, VFIO_IOMMU_UNMAP_DMA, &u) < 0 ? errno : 0;
	pthread_barrier_wait(&step);
	printf("main device-info %d regions %u group-status %d flags 0x%x unmap %d/0x%llx\n", info, di.num_regions, status,
	       st.flags, unmap, (unsigned long long)u.size);
	printf("worker intx-count %d map %d unmap %d/0x%llx type1v2 %d\n", w.irq, w.map, w.unmap,
	       (unsigned long long)w.unmapped, w.ext);
	printf("done\n");
	fflush(stdout);
	wait_line(RK_ATTACH_END);

	/* Detached: these calls belong to no recording. */
	pthread_barrier_wait(&step);
	int after_map = rk_map(&r, (uint64_t)r.buf, 0x30000000, 0x100000, RW) < 0 ? errno : 0;
	int after_unmap = rk_unmap(&r, 0x30000000, 0x100000, 0) < 0 ? errno : 0;
	pthread_join(th, NULL);
	printf("after-detach map %d unmap %d worker intx-count %d\n", after_map, after_unmap, w.after_irq);
	close(r.device);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	unlink(RK_ATTACH_GO);
	unlink(RK_ATTACH_END);
	return 0;
}
