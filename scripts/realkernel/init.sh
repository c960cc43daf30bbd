#!/bin/busybox sh
# /init of the real-kernel guest: load the VFIO modules, bind the test
# devices to vfio-pci, record every corpus entry with vfiotrace-record and
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

# Polls a shell condition every 0.1 s for up to 60 s.
until_true() {
  i=0
  until eval "$1"; do
    [ $i -ge 600 ] && return 1
    sleep 0.1; i=$((i+1))
  done
}

# record_attached CLIENT ADDR FILE ITEM BACKEND: start the client alone, attach with -p once
# it says "ready", release it through its FIFO, and once it says "done" make
# the recorder detach (SIGINT) before releasing it again. Reports the
# recorder's exit status as ITEM and the client's as ITEM.client.
record_attached() {
  /clients/$1 $2 < /dev/null > $3.out 2> $3.err &
  cpid=$!
  until_true "grep -q '^ready' $3.out" || fail "$4: the client never said ready"
  /bin/vfiotrace-record --backend $5 -p $cpid -o $3.vft < /dev/null 2> $3.rec &
  rpid=$!
  # The recorder writes the START record (text: the client's comm) only
  # once every thread is traced (ptrace: seized and stopped; bpf: the process
  # is in the program's targets): from then on no call of the client can
  # escape the recording.
  until_true "grep -q $1 $3.vft 2>/dev/null" || fail "$4: the recorder never attached"
  echo go > /tmp/rk-attach-go
  until_true "grep -q '^done' $3.out" || fail "$4: the client never said done"
  kill -INT $rpid
  wait $rpid
  say "RK-RESULT $4 $?"
  echo end > /tmp/rk-attach-end
  wait $cpid
  say "RK-RESULT $4.client $?"
  cat $3.rec >> $3.err
}

say "RK-CORPUS-START $(cut -d' ' -f1 /proc/uptime)"
# /corpus: one "NAME CLIENT HOW BACKEND" line per entry (boot.mjs CORPUS, BPF_CORPUS)
while read name addr; do
  while read entry client how backend; do
    f=/tmp/$entry.$name
    t0=$(cut -d' ' -f1 /proc/uptime)
    case $how in
      spawn) /bin/vfiotrace-record --backend $backend -o $f.vft -- /clients/$client $addr < /dev/null > $f.out 2> $f.err
        say "RK-RESULT $entry.$name $?" ;;
      follow) /bin/vfiotrace-record --backend $backend -f -o $f.vft -- /clients/$client $addr < /dev/null > $f.out 2> $f.err
        say "RK-RESULT $entry.$name $?" ;;
      attach) record_attached $client $addr $f $entry.$name $backend ;;
      *) fail "corpus entry $entry: unknown way to record: $how" ;;
    esac
    say "RK-TIME $entry.$name $t0 $(cut -d' ' -f1 /proc/uptime)"
    for ext in vft out err; do
      say "RK-BEGIN $entry.$name.$ext"
      base64 $f.$ext > $out
      say "RK-END $entry.$name.$ext"
    done
  done < /corpus
done < /tmp/targets
say "RK-CORPUS-END $(cut -d' ' -f1 /proc/uptime)"
say "RK-DONE"
poweroff -f
