/* Shared helpers of the real-kernel corpus clients.
 *
 * Every client takes one PCI address, finds its IOMMU group through sysfs
 * (as QEMU does), and issues VFIO ioctls whose answers the recorder captures.
 * What the recording cannot show (an eventfd being signalled) is printed on
 * stdout, one "key value" line per observation, so the harness can compare it
 * too. Inputs are deterministic (DMA buffers at fixed addresses, fds opened in
 * a fixed order) so that two runs of a client give byte-identical arguments.
 */
#ifndef RK_COMMON_H
#define RK_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Fixed user address of the DMA buffers: identical vaddr in every run. */
#define RK_DMA_BASE ((void *)0x7e0000000000UL)
#define RK_DMA_SIZE (4UL << 20)

struct rk {
	const char *addr;
	int groupno;
	int container;
	int group;
	int device;
	void *buf;
};

static inline void rk_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/* The group number from /sys/bus/pci/devices/ADDR/iommu_group. */
static inline int rk_group_of(const char *addr)
{
	char path[256], link[256];
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", addr);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		rk_die(path);
	link[n] = 0;
	const char *slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

/* Opens container and group; with iommu_type != 0 also attaches the group and
 * sets the IOMMU; with want_device also gets the device fd. */
static inline void rk_open(struct rk *r, const char *addr, int iommu_type, int want_device)
{
	char path[64];
	memset(r, 0, sizeof *r);
	r->addr = addr;
	r->device = -1;
	r->groupno = rk_group_of(addr);
	r->container = open("/dev/vfio/vfio", O_RDWR);
	if (r->container < 0)
		rk_die("/dev/vfio/vfio");
	snprintf(path, sizeof path, "/dev/vfio/%d", r->groupno);
	r->group = open(path, O_RDWR);
	if (r->group < 0)
		rk_die(path);
	if (!iommu_type)
		return;
	if (ioctl(r->group, VFIO_GROUP_SET_CONTAINER, &r->container) < 0)
		rk_die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(r->container, VFIO_SET_IOMMU, iommu_type) < 0)
		rk_die("VFIO_SET_IOMMU");
	if (want_device) {
		r->device = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, addr);
		if (r->device < 0)
			rk_die("VFIO_GROUP_GET_DEVICE_FD");
	}
}

/* A DMA buffer at RK_DMA_BASE. */
static inline void *rk_buffer(struct rk *r)
{
	r->buf = mmap(RK_DMA_BASE, RK_DMA_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED)
		rk_die("mmap of the DMA buffer");
	return r->buf;
}

static inline int rk_map(struct rk *r, uint64_t vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof m, .flags = flags, .vaddr = vaddr, .iova = iova, .size = size };
	return ioctl(r->container, VFIO_IOMMU_MAP_DMA, &m);
}

static inline int rk_unmap(struct rk *r, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .flags = flags, .iova = iova, .size = size };
	return ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* SET_IRQS with up to 8 eventfds (or a NULL fds for no data). */
static inline int rk_set_irqs(struct rk *r, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
			      const int32_t *fds, unsigned nfds)
{
	struct {
		struct vfio_irq_set s;
		int32_t fds[8];
	} a;
	memset(&a, 0, sizeof a);
	a.s.argsz = sizeof a.s + nfds * sizeof(int32_t);
	a.s.flags = flags;
	a.s.index = index;
	a.s.start = start;
	a.s.count = count;
	for (unsigned i = 0; i < nfds && i < 8; i++)
		a.fds[i] = fds[i];
	return ioctl(r->device, VFIO_DEVICE_SET_IRQS, &a);
}

/* Prints how many times an eventfd fired since the last read (0 = never). */
static inline void rk_report_eventfd(const char *what, int efd)
{
	uint64_t v = 0;
	if (read(efd, &v, sizeof v) != (ssize_t)sizeof v)
		v = 0;
	printf("%s %llu\n", what, (unsigned long long)v);
}

static inline const char *rk_addr_arg(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F\n", argv[0]);
		exit(2);
	}
	return argv[1];
}

#endif
