/* dma: MAP/UNMAP_DMA misuse on a type1v2 container, then the same unmap
 * split on a type1 (v1) container, which allows it. */
#include "common.h"

#define M1 0x100000UL
#define P 0x1000UL

static void v2(struct rk *r)
{
	uint64_t va = (uint64_t)r->buf;
	rk_map(r, va, 0, 0, RW);                               /* size 0 */
	rk_map(r, va + 1, 0, P, RW);                           /* unaligned vaddr */
	rk_map(r, va, 0x800, P, RW);                           /* unaligned iova */
	rk_map(r, va, 0, P + 1, RW);                           /* unaligned size */
	rk_map(r, va, 0, P, 0);                                /* no permission */
	rk_map(r, va, 0, P, RW | (1u << 7));                   /* unknown flag */
	rk_map(r, va, 0xfffffffffffff000UL, 2 * P, RW);        /* iova wraps */
	rk_map(r, 0xfffffffffffff000UL, 0, 2 * P, RW);         /* vaddr wraps */
	rk_map(r, va, 1UL << 39, P, RW);                       /* past 39 address bits */
	rk_map(r, va, (1UL << 39) - P, 2 * P, RW);             /* straddles the top */
	rk_map(r, va, 0xfee00000UL, P, RW);                    /* the MSI window */
	rk_map(r, va, 0, M1, RW);                              /* ok */
	rk_map(r, va, 0, M1, RW);                              /* the same again */
	rk_map(r, va, M1 - P, 2 * P, RW);                      /* overlaps the tail */
	rk_map(r, va, M1, M1, RW);                             /* adjacent: ok */
	rk_unmap(r, P, P, 0);                                  /* a page inside a mapping */
	rk_unmap(r, 0, P, 0);                                  /* the head of a mapping */
	rk_unmap(r, 0, M1 + P, 0);                             /* one and a bit */
	rk_unmap(r, 0, M1, 0);                                 /* the first mapping */
	rk_unmap(r, 0, M1, 0);                                 /* again */
	rk_unmap(r, 0x10000000UL, M1, 0);                      /* never mapped */
	rk_unmap(r, 0, 0, 0);                                  /* size 0 */
	rk_unmap(r, 0x800, P, 0);                              /* unaligned */
	rk_unmap(r, 0xfffffffffffff000UL, 2 * P, 0);           /* wraps */
	rk_unmap(r, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);             /* everything */
	rk_unmap(r, 0, P, VFIO_DMA_UNMAP_FLAG_ALL);             /* ALL with a range */
	rk_unmap(r, 0, P, 1u << 5);                            /* unknown flag */
	rk_map(r, va, 0, M1, RW);
	rk_map(r, va, M1, M1, RW);
	rk_unmap(r, 0, 2 * M1, 0);                              /* two whole mappings */
}

static void v1(struct rk *r)
{
	uint64_t va = (uint64_t)r->buf;
	rk_map(r, va, 0, M1, RW);
	rk_unmap(r, P, P, 0);                                  /* v1: splits */
	rk_unmap(r, 0, P, 0);
	rk_unmap(r, 0, M1, 0);
	rk_unmap(r, 0, M1, 0);
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 0);
	rk_buffer(&r);
	v2(&r);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	close(r.container);
	r.container = open("/dev/vfio/vfio", O_RDWR);
	if (ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container) < 0)
		rk_die("VFIO_GROUP_SET_CONTAINER");
	ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU + 100);
	if (ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		rk_die("VFIO_SET_IOMMU");
	ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
	v1(&r);
	return 0;
}
