/* Tracer-overhead workload. Issues VFIO ioctls on regular files at /dev/vfio
 * paths (in the benchmark's private /dev the kernel answers ENOTTY), optionally
 * interleaved with ordinary ioctls and getppid calls that a tracer should let
 * run at full speed. Times its own loop with CLOCK_MONOTONIC so start-up of
 * whatever wraps it is not counted, and prints one line of counts.
 *
 *   ioctl_load mixed [VFIO OTHER GETPPID]   default 2000 200000 200000
 *   ioctl_load vfio  [VFIO [THREADS]]       default 50000 1 (VFIO split over the threads)
 *   ioctl_load spin  [EVERY [MS [WORK]]]    default 3000 2000 0: getppid with WORK
 *       loop turns of work between calls, a VFIO call every EVERY syscalls;
 *       prints "ready", and on SIGUSR1 measures its syscall rate over MS
 *       milliseconds (a target to attach to)
 *   ioctl_load pace  [RATE]                 default 1000000: prints the WORK that
 *       paces spin to about RATE syscalls/s here
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

/* vfio mode with threads: each issues its share of the rotation. */
struct share {
	const struct fds *f;
	long from, to, enotty;
};

static void *vfio_share(void *arg)
{
	struct share *sh = arg;
	for (long i = sh->from; i < sh->to; i++)
		sh->enotty += vfio_call(sh->f, i);
	return NULL;
}

static long vfio_threads(const struct fds *f, long n, long threads)
{
	pthread_t t[64];
	struct share sh[64];
	if (threads < 1 || threads > 64)
		threads = 1;
	for (long k = 0; k < threads; k++) {
		sh[k] = (struct share){f, n * k / threads, n * (k + 1) / threads, 0};
		if (pthread_create(&t[k], NULL, vfio_share, &sh[k]) != 0)
			exit(1);
	}
	long enotty = 0;
	for (long k = 0; k < threads; k++) {
		pthread_join(t[k], NULL);
		enotty += sh[k].enotty;
	}
	return enotty;
}

static volatile sig_atomic_t go;
static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* User-space work between syscalls, as a real program has. */
static void work(long n)
{
	for (volatile long j = 0; j < n; j++)
		;
}

/* The work per syscall that paces the loop to about rate syscalls/s
 * (measured before anyone attaches). */
static long pace(long rate)
{
	long long t0 = now_ns();
	for (int k = 0; k < 20000; k++)
		syscall(SYS_getppid);
	double sys_ns = (double)(now_ns() - t0) / 20000;
	t0 = now_ns();
	work(10000000);
	double work_ns = (double)(now_ns() - t0) / 10000000;
	double want = 1e9 / (double)rate - sys_ns;
	return want > 0 && work_ns > 0 ? (long)(want / work_ns) : 0;
}

/* spin mode: a busy process that makes a VFIO call now and then. */
static int spin(const struct fds *f, long every, long ms, long n)
{
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	long i = 0, v = 0;
	while (!go) {
		syscall(SYS_getppid);
		work(n);
		if (++i % every == 0)
			vfio_call(f, v++);
	}
	long calls = 0, vfio = 0;
	long long t0 = now_ns(), end = t0 + ms * 1000000LL, t1;
	do {
		for (int k = 0; k < 1000; k++) {
			syscall(SYS_getppid);
			work(n);
			if (++i % every == 0) {
				vfio_call(f, v++);
				vfio++;
			}
		}
		calls += 1000;
		t1 = now_ns();
	} while (t1 < end);
	printf("ioctl_load: spin syscalls=%ld vfio=%ld elapsed_ns=%lld\n", calls, vfio, t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mixed";
	int mixed = strcmp(mode, "mixed") == 0;
	if (strcmp(mode, "pace") == 0) {
		printf("ioctl_load: work=%ld\n", pace(arg(argc, argv, 2, 1000000)));
		return 0;
	}
	if (!mixed && strcmp(mode, "vfio") != 0 && strcmp(mode, "spin") != 0) {
		fprintf(stderr, "usage: ioctl_load mixed [VFIO OTHER GETPPID] | vfio [VFIO [THREADS]] | spin [EVERY [MS [WORK]]] | pace [RATE]\n");
		return 2;
	}
	long nvfio = arg(argc, argv, 2, mixed ? 2000 : 50000);
	long nother = mixed ? arg(argc, argv, 3, 200000) : 0;
	long nppid = mixed ? arg(argc, argv, 4, 200000) : 0;
	long threads = mixed ? 1 : arg(argc, argv, 3, 1);

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

	if (strcmp(mode, "spin") == 0)
		return spin(&f, arg(argc, argv, 2, 3000), arg(argc, argv, 3, 2000), arg(argc, argv, 4, 0));
	if (threads > 1) {
		long long c0 = cpu_ns(), t0 = now_ns();
		long enotty = vfio_threads(&f, nvfio, threads);
		long long t1 = now_ns(), c1 = cpu_ns();
		printf("ioctl_load: elapsed_ns=%lld cpu_ns=%lld vfio=%ld enotty=%ld other=0 getppid=0\n", t1 - t0, c1 - c0, nvfio, enotty);
		return 0;
	}

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
