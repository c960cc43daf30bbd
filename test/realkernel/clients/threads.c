/* threads: the main thread sets up container, group and device; then three
 * threads, released together by a barrier, issue VFIO ioctls on the shared
 * fds at the same time. Each thread has its own region and IRQ index and its
 * own IOVA and buffer slice, so its answers do not depend on how the threads
 * interleave; what each thread saw is printed by the main thread after the
 * joins, in thread order. */
#include "common.h"

#include <pthread.h>

#define NTHREADS 3
#define ROUNDS 4
#define SLICE 0x40000UL /* 12 slices fit the 4 MiB buffer */

struct job {
	struct rk *r;
	int k;
	pthread_barrier_t *go;
	int map[ROUNDS], unmap[ROUNDS];
	uint64_t unmapped[ROUNDS];
	uint64_t region_size;
	uint32_t irq_count;
};

/* Thread k: region index k (BAR0, BAR1, BAR2), IRQ index k (INTx, MSI,
 * MSI-X), IOVA 0x10000000 * (k + 1) + round * SLICE. */
static void *worker(void *arg)
{
	struct job *j = arg;
	struct rk *r = j->r;
	pthread_barrier_wait(j->go);
	for (int round = 0; round < ROUNDS; round++) {
		struct vfio_region_info ri = { .argsz = sizeof ri, .index = (uint32_t)j->k };
		if (ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0)
			j->region_size = ri.size;
		struct vfio_irq_info ii = { .argsz = sizeof ii, .index = (uint32_t)j->k };
		if (ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0)
			j->irq_count = ii.count;
		uint64_t off = (uint64_t)(j->k * ROUNDS + round) * SLICE;
		uint64_t iova = 0x10000000UL * (uint64_t)(j->k + 1) + (uint64_t)round * SLICE;
		j->map[round] = rk_map(r, (uint64_t)r->buf + off, iova, SLICE, RW) == 0 ? 0 : errno;
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = iova, .size = SLICE };
		j->unmap[round] = ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &u) == 0 ? 0 : errno;
		j->unmapped[round] = u.size;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	rk_buffer(&r);
	struct vfio_device_info di = { .argsz = sizeof di };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct job jobs[NTHREADS];
	pthread_t th[NTHREADS];
	for (int k = 0; k < NTHREADS; k++) {
		jobs[k] = (struct job){ .r = &r, .k = k, .go = &go };
		if (pthread_create(&th[k], NULL, worker, &jobs[k]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (int k = 0; k < NTHREADS; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < NTHREADS; k++) {
		struct job *j = &jobs[k];
		printf("thread %d region-size 0x%llx irq-count %u", k, (unsigned long long)j->region_size, j->irq_count);
		for (int round = 0; round < ROUNDS; round++)
			printf(" map %d unmap %d/0x%llx", j->map[round], j->unmap[round], (unsigned long long)j->unmapped[round]);
		printf("\n");
	}

	/* After the joins: nothing is left mapped, so UNMAP_ALL unmaps 0 bytes. */
	rk_unmap(&r, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
	close(r.device);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	return 0;
}
