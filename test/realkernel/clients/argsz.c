/* argsz: each struct ioctl with argsz one byte below its minimum, zero, and
 * (where the kernel allows it) larger than the struct. */
#include "common.h"

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, 0, 0);
	struct vfio_group_status st = { .argsz = sizeof st - 1 };
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &st);
	st.argsz = 0;
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &st);
	st.argsz = 64;
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &st);
	if (ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container) < 0 ||
	    ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		rk_die("container setup");
	r.device = ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (r.device < 0)
		rk_die("VFIO_GROUP_GET_DEVICE_FD");
	rk_buffer(&r);

	struct vfio_iommu_type1_info ii = { .argsz = 15 };
	ioctl(r.container, VFIO_IOMMU_GET_INFO, &ii);
	ii.argsz = 16; /* minimum without cap_offset: no caps */
	ioctl(r.container, VFIO_IOMMU_GET_INFO, &ii);

	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof m - 1, .flags = RW, .vaddr = (uint64_t)r.buf, .iova = 0, .size = 0x1000 };
	ioctl(r.container, VFIO_IOMMU_MAP_DMA, &m);
	m.argsz = 0;
	ioctl(r.container, VFIO_IOMMU_MAP_DMA, &m);
	m.argsz = sizeof m + 8;
	ioctl(r.container, VFIO_IOMMU_MAP_DMA, &m);

	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u - 1, .iova = 0, .size = 0x1000 };
	ioctl(r.container, VFIO_IOMMU_UNMAP_DMA, &u);
	u.argsz = sizeof u + 8;
	ioctl(r.container, VFIO_IOMMU_UNMAP_DMA, &u);

	struct vfio_device_info di = { .argsz = 15 };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	di.argsz = 16; /* without cap_offset */
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);

	struct vfio_region_info ri = { .argsz = 31, .index = 0 };
	ioctl(r.device, VFIO_DEVICE_GET_REGION_INFO, &ri);
	ri.argsz = 0;
	ioctl(r.device, VFIO_DEVICE_GET_REGION_INFO, &ri);

	struct vfio_irq_info qi = { .argsz = sizeof qi - 1, .index = 0 };
	ioctl(r.device, VFIO_DEVICE_GET_IRQ_INFO, &qi);
	qi.argsz = sizeof qi + 4;
	qi.index = 0;
	ioctl(r.device, VFIO_DEVICE_GET_IRQ_INFO, &qi);

	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} is = { .s = { .argsz = sizeof is.s - 1, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, .index = 0, .start = 0, .count = 0 } };
	ioctl(r.device, VFIO_DEVICE_SET_IRQS, &is);
	/* an eventfd payload promised but argsz too small to hold it */
	is.s.argsz = sizeof is.s + 2;
	is.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	is.s.count = 1;
	is.fd = -1;
	ioctl(r.device, VFIO_DEVICE_SET_IRQS, &is);

	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof hri - 1 };
	ioctl(r.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri);
	struct vfio_pci_hot_reset hr = { .argsz = sizeof hr - 1 };
	ioctl(r.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);

	struct vfio_device_feature f = { .argsz = sizeof f - 1, .flags = VFIO_DEVICE_FEATURE_PROBE };
	ioctl(r.device, VFIO_DEVICE_FEATURE, &f);
	return 0;
}
