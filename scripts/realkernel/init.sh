#!/bin/busybox sh
# /init of the real-kernel guest: load the VFIO modules, bind the test
# devices to vfio-pci, run every corpus client under vfiotrace-record and
# send the results to the host over the second serial port (/dev/ttyS1) as
# base64 between markers. The kernel console stays on ttyS0.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
echo 1 > /proc/sys/kernel/printk
out=/dev/ttyS1
stty -F $out raw -echo 2>/dev/null
say() { echo "$*" > $out; }
fail() { say "RK-ERROR $*"; poweroff -f; }

say "RK-HELLO $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /modules.order); do
  insmod /lib/modules/$m.ko || fail "insmod $m"
done

# name:vendor:device of each test device (from /devices)
for spec in $(cat /devices); do
  name=${spec%%:*}; ids=${spec#*:}; vendor=${ids%%:*}; device=${ids#*:}
  addr=
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat $d/vendor)" = "0x$vendor" ] && [ "$(cat $d/device)" = "0x$device" ] && addr=${d##*/}
  done
  [ -n "$addr" ] || fail "no PCI device $vendor:$device"
  echo "$vendor $device" > /sys/bus/pci/drivers/vfio-pci/new_id 2>/dev/null
  [ -e /sys/bus/pci/drivers/vfio-pci/$addr ] || echo $addr > /sys/bus/pci/drivers/vfio-pci/bind
  group=$(readlink /sys/bus/pci/devices/$addr/iommu_group); group=${group##*/}
  i=0
  while [ ! -e /dev/vfio/$group ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  [ -e /dev/vfio/$group ] || fail "no /dev/vfio/$group for $addr"
  say "RK-DEVICE $name $addr $group"
  echo "$name $addr" >> /tmp/targets
done

say "RK-CORPUS-START $(cut -d' ' -f1 /proc/uptime)"
while read name addr; do
  for client in $(cat /clients.list); do
    f=/tmp/$client.$name
    /bin/vfiotrace-record -o $f.vft -- /clients/$client $addr > $f.out 2> $f.err
    say "RK-RESULT $client.$name $?"
    for ext in vft out err; do
      say "RK-BEGIN $client.$name.$ext"
      base64 $f.$ext > $out
      say "RK-END $client.$name.$ext"
    done
  done
done < /tmp/targets
say "RK-CORPUS-END $(cut -d' ' -f1 /proc/uptime)"
say "RK-DONE"
poweroff -f
