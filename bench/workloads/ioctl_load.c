/* Tracer-overhead workload. Issues VFIO ioctls on regular files at /dev/vfio
 * paths (in the benchmark's private /dev the kernel answers ENOTTY), optionally
 * interleaved with ordinary ioctls and getppid calls that a tracer should let
 * run at full speed. Times its own loop with CLOCK_MONOTONIC so start-up of
 * whatever wraps it is not counted, and prints one line of counts.
 *
 *   ioctl_load mixed [VFIO OTHER GETPPID]   default 2000 200000 200000
 *   ioctl_load vfio  [VFIO]                 default 50000
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct fds {
	int container, group, device;
};

static int open_vfio(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* Outside the private /dev the numbers would hit another file: refuse. */
		fprintf(stderr, "ioctl_load: cannot open %s: %s (run inside the benchmark sandbox)\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

/* Argument buffers filled as a VFIO client would, reused across calls. */
static struct vfio_iommu_type1_dma_map map;
static struct vfio_iommu_type1_dma_unmap unmap;
static struct vfio_eeh_pe_op eeh;
static struct vfio_group_status gstatus;
static union {
	struct vfio_region_info info;
	unsigned char room[256]; /* room for a capability chain */
} region;
static union {
	struct vfio_irq_set set;
	unsigned char room[sizeof(struct vfio_irq_set) + 4 * sizeof(int)];
} irqs;

/* One VFIO call from a fixed rotation; returns 1 if the kernel said ENOTTY. */
static int vfio_call(const struct fds *f, long i)
{
	long r;
	switch (i % 8) {
	case 0: r = ioctl(f->container, VFIO_GET_API_VERSION); break;
	case 1: r = ioctl(f->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU); break;
	case 2:
		map.iova = (unsigned long long)(i & 0xffff) << 16;
		r = ioctl(f->container, VFIO_IOMMU_MAP_DMA, &map);
		break;
	case 3:
		unmap.iova = (unsigned long long)(i & 0xffff) << 16;
		r = ioctl(f->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
		break;
	case 4:
		region.info.index = (unsigned)(i % 9);
		r = ioctl(f->device, VFIO_DEVICE_GET_REGION_INFO, &region);
		break;
	case 5: r = ioctl(f->device, VFIO_DEVICE_SET_IRQS, &irqs); break;
	case 6: r = ioctl(f->container, VFIO_EEH_PE_OP, &eeh); break;
	default: r = ioctl(f->group, VFIO_GROUP_GET_STATUS, &gstatus); break;
	}
	return r < 0 && errno == ENOTTY;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of this process alone (user + system): with a tracer attached it
 * includes the seccomp filter run on every syscall, not the tracer's work. */
static long long cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static long arg(int argc, char **argv, int i, long dflt)
{
	return argc > i ? strtol(argv[i], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mixed";
	int mixed = strcmp(mode, "mixed") == 0;
	if (!mixed && strcmp(mode, "vfio") != 0) {
		fprintf(stderr, "usage: ioctl_load mixed [VFIO OTHER GETPPID] | vfio [VFIO]\n");
		return 2;
	}
	long nvfio = arg(argc, argv, 2, mixed ? 2000 : 50000);
	long nother = mixed ? arg(argc, argv, 3, 200000) : 0;
	long nppid = mixed ? arg(argc, argv, 4, 200000) : 0;

	struct fds f = {
		.container = open_vfio("/dev/vfio/vfio"),
		.group = open_vfio("/dev/vfio/42"),
		.device = open_vfio("/dev/vfio/devices/vfio0"),
	};
	int p[2];
	if (pipe(p) != 0)
		return 1;

	map.argsz = sizeof(map);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = 0x7f0000000000ULL;
	map.size = 0x10000;
	unmap.argsz = sizeof(unmap);
	unmap.size = 0x10000;
	eeh.argsz = sizeof(eeh);
	eeh.op = VFIO_EEH_PE_GET_STATE;
	gstatus.argsz = sizeof(gstatus);
	region.info.argsz = sizeof(region);
	irqs.set.argsz = sizeof(irqs);
	irqs.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irqs.set.index = VFIO_PCI_MSIX_IRQ_INDEX;
	irqs.set.count = 4;
	memset(irqs.set.data, 0xff, 4 * sizeof(int));

	/* The VFIO calls are spread evenly through the ordinary ones. */
	long steps = nother > nppid ? nother : nppid;
	if (steps < nvfio)
		steps = nvfio;
	long v = 0, o = 0, g = 0, enotty = 0;
	long long c0 = cpu_ns();
	long long t0 = now_ns();
	for (long i = 0; i < steps; i++) {
		if (o < nother) {
			int n;
			ioctl(p[0], FIONREAD, &n);
			o++;
		}
		if (g < nppid) {
			syscall(SYS_getppid); /* not libc's: it must reach the kernel */
			g++;
		}
		while (v < nvfio && v * steps <= i * nvfio) {
			enotty += vfio_call(&f, v);
			v++;
		}
	}
	long long t1 = now_ns();
	long long c1 = cpu_ns();
	printf("ioctl_load: elapsed_ns=%lld cpu_ns=%lld vfio=%ld enotty=%ld other=%ld getppid=%ld\n", t1 - t0, c1 - c0, v, enotty, o, g);
	return 0;
}
