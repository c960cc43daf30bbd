/* reset: device reset with and without support, hot-reset info and a hot
 * reset with wrong group lists, device features, groups and containers used
 * in the wrong order. */
#include "common.h"

int main(int argc, char **argv)
{
	const char *addr = rk_addr_arg(argc, argv);
	struct rk r;
	rk_open(&r, addr, 0, 0);
	/* before any container: device fd, SET_IOMMU, UNSET_CONTAINER */
	ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr);
	ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	int notc = eventfd(0, EFD_CLOEXEC);
	ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &notc);
	int badfd = 999;
	ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &badfd);
	if (ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container) < 0)
		rk_die("VFIO_GROUP_SET_CONTAINER");
	ioctl(r.group, VFIO_GROUP_SET_CONTAINER, &r.container);
	ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr); /* no IOMMU yet */
	if (ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		rk_die("VFIO_SET_IOMMU");
	ioctl(r.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7");
	r.device = ioctl(r.group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (r.device < 0)
		rk_die("VFIO_GROUP_GET_DEVICE_FD");
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER); /* busy: device open */

	struct vfio_device_info di = { .argsz = sizeof di };
	ioctl(r.device, VFIO_DEVICE_GET_INFO, &di);
	ioctl(r.device, VFIO_DEVICE_RESET);
	ioctl(r.device, VFIO_DEVICE_RESET);

	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof hri };
	ioctl(r.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri);
	struct {
		struct vfio_pci_hot_reset_info i;
		struct vfio_pci_dependent_device d[8];
	} big = { .i = { .argsz = sizeof big } };
	ioctl(r.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &big);

	struct {
		struct vfio_pci_hot_reset h;
		int32_t fds[2];
	} hr = { .h = { .argsz = sizeof hr.h, .count = 0 } };
	ioctl(r.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
	hr.h.argsz = sizeof hr.h + 4;
	hr.h.count = 1;
	hr.fds[0] = r.container; /* not a group */
	ioctl(r.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
	hr.fds[0] = r.group;
	ioctl(r.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
	hr.h.flags = 1;
	ioctl(r.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);

	struct {
		struct vfio_device_feature f;
		uint8_t data[16];
	} f = { .f = { .argsz = sizeof f.f, .flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION } };
	ioctl(r.device, VFIO_DEVICE_FEATURE, &f);
	f.f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	ioctl(r.device, VFIO_DEVICE_FEATURE, &f);
	f.f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 0x7ff;
	ioctl(r.device, VFIO_DEVICE_FEATURE, &f);
	f.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	ioctl(r.device, VFIO_DEVICE_FEATURE, &f);
	ioctl(r.device, 0x3b99, 0); /* an unknown device ioctl */
	ioctl(r.container, 0x3b99, 0); /* an unknown container ioctl */
	close(r.device);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	ioctl(r.group, VFIO_GROUP_UNSET_CONTAINER);
	ioctl(r.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	return 0;
}
