// The guest's initramfs: busybox and an /init that waits for the host's word,
// reads the passthrough function's config space the ordinary way (sysfs →
// the kernel's config accessors → RTAS → QEMU → the device fd), and waits for
// the EEH core's verdict before powering off. The host side speaks to it on
// the console (src/guest/scenario.ts).

import { readFileSync } from 'node:fs';
import { newcArchive, type CpioEntry } from './cpio.js';

/** Lines the guest prints for the host (each starts with GUEST_MARK). */
export const GUEST_MARK = 'vfiotrace-guest:';
const READY = 'ready';
const DONE = 'done';
export const GUEST_READY = `${GUEST_MARK} ${READY}`;
export const GUEST_DONE = `${GUEST_MARK} ${DONE}`;
/** What the host sends once the PE is frozen. */
export const HOST_GO = 'read-config';

/** The EEH core's line when it has recovered the PE (arch/powerpc/kernel/eeh_driver.c). */
export const EEH_RECOVERED = 'EEH: Recovery successful';
/**
 * Kernel lines after which the EEH core has decided: recovered, or given up
 * (after the failed resets, or after too many freezes in an hour; the earlier
 * "will be permanently disabled after 5 failures" is only a warning).
 */
export const EEH_VERDICTS = [EEH_RECOVERED, 'EEH: Unable to recover from failure', 'has been permanently disabled'];

/** Seconds the guest waits for the EEH core's verdict after its read. */
const VERDICT_WAIT_S = 240;

export function initScript(): string {
  const verdicts = EEH_VERDICTS.map((v) => `-e '${v}'`).join(' ');
  // The kernel and this script share the console: a printk landing in the
  // middle of one of our lines would cut it in two (the EEH core prints dozens
  // of lines while the detecting read is still in flight). So each of our
  // lines goes out with the console loglevel down for the one write, and the
  // config bytes, read while the PE is frozen, are printed once the EEH core
  // has reached its verdict and gone quiet. dmesg keeps every kernel line.
  return `#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
level=$(cut -f1 /proc/sys/kernel/printk)
say() { echo 1 > /proc/sys/kernel/printk; echo "${GUEST_MARK} $*"; echo "$level" > /proc/sys/kernel/printk; }
dev=
for d in /sys/bus/pci/devices/*; do [ -e "$d/config" ] && dev=$d && break; done
if [ -z "$dev" ]; then say "no PCI function found"; poweroff -f; fi
say "${READY} $(basename $dev) $(cat $dev/vendor):$(cat $dev/device)"
while read -r word; do [ "$word" = "${HOST_GO}" ] && break; done
say "reading $(basename $dev)/config"
config=$(head -c 16 $dev/config | hexdump -v -e '16/1 "%02x "')
i=0
while [ $i -lt ${VERDICT_WAIT_S} ] && ! dmesg | grep -q ${verdicts}; do sleep 1; i=$((i+1)); done
sleep 2
say "config: $config"
say ${DONE}
poweroff -f
`;
}

/** The initramfs (an uncompressed newc archive) around a static busybox. */
export function buildInitramfs(busyboxPath: string): Buffer {
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'dir', path: 'proc' },
    { kind: 'dir', path: 'sys' },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(busyboxPath), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: Buffer.from(initScript()), mode: 0o755 },
  ];
  return newcArchive(entries);
}
