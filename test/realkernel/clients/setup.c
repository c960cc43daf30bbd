/* setup: what QEMU does to realize a vfio-pci device, in QEMU's order, plus
 * the MSI/MSI-X loopback trigger and a reset. */
#include "common.h"

static void iommu_info(struct rk *r)
{
	struct vfio_iommu_type1_info small = { .argsz = sizeof small };
	if (ioctl(r->container, VFIO_IOMMU_GET_INFO, &small) < 0)
		return;
	/* The caps retry: ask again with the size the kernel asked for. */
	uint32_t need = small.argsz;
	struct vfio_iommu_type1_info *big = calloc(1, need);
	big->argsz = need;
	ioctl(r->container, VFIO_IOMMU_GET_INFO, big);
	free(big);
}

static void region_infos(struct rk *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct vfio_region_info ri = { .argsz = sizeof ri, .index = i };
		if (ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0 || ri.argsz <= sizeof ri)
			continue;
		uint32_t need = ri.argsz;
		struct vfio_region_info *big = calloc(1, need);
		big->argsz = need;
		big->index = i;
		ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, big);
		free(big);
	}
}

static uint32_t irq_count(struct rk *r, uint32_t index)
{
	struct vfio_irq_info ii = { .argsz = sizeof ii, .index = index };
	return ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 ? 0 : ii.count;
}

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, 0, 0);
	ioctl(r.container, VFIO_GET_API_VERSION);
	ioctl(r.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	ioctl(r.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
	struct vfio_group_status st = { .argsz = sizeof st };
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &st);
	if (ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container) < 0)
		rk_die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		rk_die("VFIO_SET_IOMMU");
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &st);
	ioctl(r.container, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL);
	ioctl(r.container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR);
	iommu_info(&r);

	rk_buffer(&r);
	uint64_t va = (uint64_t)r.buf;
	rk_map(&r, va, 0, 0x200000, RW);
	rk_map(&r, va + 0x200000, 0x100000000UL, 0x200000, RW);

	r.device = ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (r.device < 0)
		rk_die("VFIO_GROUP_GET_DEVICE_FD");
	struct vfio_device_info di = { .argsz = sizeof di };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	region_infos(&r, di.num_regions);
	uint32_t counts[16] = { 0 };
	for (uint32_t i = 0; i < di.num_irqs && i < 16; i++)
		counts[i] = irq_count(&r, i);

	/* INTx, ERR and REQ eventfds, as QEMU wires them. */
	int efd[4];
	for (int i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int32_t one = efd[0];
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1);
	one = efd[1];
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1);
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0);
	one = efd[2];
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &one, 1);
	one = efd[3];
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &one, 1);

	/* MSI-X if the device has it, else MSI: enable one vector, fire it from
	 * user space (DATA_NONE|TRIGGER) and see whether the eventfd counts it. */
	uint32_t msi = counts[VFIO_PCI_MSIX_IRQ_INDEX] ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	int vec = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	one = vec;
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, msi, 0, 1, &one, 1);
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, msi, 0, 1, NULL, 0);
	rk_report_eventfd("msi-trigger", vec);
	uint8_t on = 1;
	struct {
		struct vfio_irq_set s;
		uint8_t b[4];
	} bools = { .s = { .argsz = sizeof bools.s + 1, .flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, .index = msi, .start = 0, .count = 1 }, .b = { on } };
	ioctl(r.device, VFIO_DEVICE_SET_IRQS, &bools);
	rk_report_eventfd("msi-trigger-bool", vec);
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, msi, 0, 0, NULL, 0);
	rk_set_irqs(&r, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0);
	rk_report_eventfd("err-trigger", efd[2]);

	ioctl(r.device, VFIO_DEVICE_RESET);
	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof hri };
	ioctl(r.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri);

	rk_unmap(&r, 0x100000000UL, 0x200000, 0);
	rk_unmap(&r, 0, 0x200000, 0);
	close(r.device);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	return 0;
}
