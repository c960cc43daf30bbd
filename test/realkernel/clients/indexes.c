/* indexes: region and IRQ indexes the device lacks, SET_IRQS ranges beyond
 * an index's count, and flag combinations the kernel refuses. */
#include "common.h"

static void region(struct rk *r, uint32_t index)
{
	struct vfio_region_info ri = { .argsz = sizeof ri, .index = index };
	ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &ri);
}

static void irq(struct rk *r, uint32_t index)
{
	struct vfio_irq_info ii = { .argsz = sizeof ii, .index = index };
	ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
}

#define TRIG (VFIO_IRQ_SET_ACTION_TRIGGER)
#define EVT (VFIO_IRQ_SET_DATA_EVENTFD)
#define NONE (VFIO_IRQ_SET_DATA_NONE)
#define BOOL (VFIO_IRQ_SET_DATA_BOOL)

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, VFIO_TYPE1v2_IOMMU, 1);
	struct vfio_device_info di = { .argsz = sizeof di };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	/* every index the device has, then the VGA and the ones past the end */
	for (uint32_t i = 0; i <= di.num_regions; i++)
		region(&r, i);
	region(&r, 100);
	region(&r, 0xffffffff);
	for (uint32_t i = 0; i <= di.num_irqs; i++)
		irq(&r, i);
	irq(&r, 0xffffffff);

	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int32_t fds[3] = { efd, efd, efd };
	int32_t bad = 1000;
	/* IRQ indexes past the end and ones the device may lack */
	rk_set_irqs(&r, EVT | TRIG, di.num_irqs, 0, 1, fds, 1);
	rk_set_irqs(&r, EVT | TRIG, 0xffffffff, 0, 1, fds, 1);
	for (uint32_t i = 0; i < di.num_irqs; i++)
		rk_set_irqs(&r, EVT | TRIG, i, 0, 1, fds, 1), rk_set_irqs(&r, NONE | TRIG, i, 0, 0, NULL, 0);
	/* ranges past the count of INTx (1) and of MSI/MSI-X */
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 2, fds, 2);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 1, 1, fds, 1);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 3, fds, 3);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_MSIX_IRQ_INDEX, 0xffffffff, 2, fds, 2);
	rk_set_irqs(&r, NONE | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 0xffffffff, NULL, 0);
	/* count 0 with eventfd data: disable; bad flag combinations */
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0);
	rk_set_irqs(&r, NONE | BOOL | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	rk_set_irqs(&r, NONE | TRIG | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	rk_set_irqs(&r, NONE | (1u << 6), VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &bad, 1);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &bad, 1);
	/* masking MSI, and MSI while INTx is on */
	rk_set_irqs(&r, NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds, 1);
	rk_set_irqs(&r, EVT | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds, 1);
	rk_set_irqs(&r, NONE | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0);
	return 0;
}
