// The guest's console as the host sees it: QEMU serves the pseries console
// (spapr-vty, hvc0 in the guest) on a unix socket and waits for us before
// starting the machine, so no line is lost. Lines come out one by one; the
// host can type a line back.

import { existsSync } from 'node:fs';
import net from 'node:net';

export interface GuestConsole {
  /** Sends one line to the guest. */
  send(line: string): void;
  close(): void;
}

/**
 * Connects to QEMU's console socket once it exists (polling until
 * `deadlineMs`), and calls `onLine` for each line the guest prints.
 */
export async function connectConsole(sock: string, onLine: (line: string) => void, deadlineMs: number, alive: () => boolean): Promise<GuestConsole> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (existsSync(sock)) {
      try {
        return await open(sock, onLine);
      } catch {
        // Created but not listening yet: try again.
      }
    }
    if (!alive()) throw new Error('QEMU ended before its console socket was ready');
    if (Date.now() > until) throw new Error(`QEMU's console socket ${sock} did not appear within ${Math.round(deadlineMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function open(sock: string, onLine: (line: string) => void): Promise<GuestConsole> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    let pending = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    });
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      // Later errors (QEMU exiting) just end the console.
      s.on('error', () => {});
      s.on('close', () => {
        if (pending !== '') onLine(pending);
        pending = '';
      });
      resolve({ send: (line) => void s.write(line + '\r'), close: () => s.destroy() });
    });
  });
}

/** qemu-system-ppc64 arguments: pseries under TCG, console on `sock`, the emulated function at `address` passed through. */
export function qemuArgv(o: { kernel: string; initrd: string; sock: string; address: string | null; memory?: string }): string[] {
  return [
    'qemu-system-ppc64',
    // TCG cannot give the Spectre mitigations a pseries machine asks for by default; say so, quietly.
    '-M', 'pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off',
    '-accel', 'tcg',
    '-m', o.memory ?? '1G',
    '-smp', '1',
    '-nodefaults',
    '-display', 'none',
    '-monitor', 'none',
    '-chardev', `socket,id=con,path=${o.sock},server=on,wait=on`,
    '-serial', 'chardev:con',
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', 'console=hvc0',
    '-no-reboot',
    // null: the same machine without the function (the benchmark's bare boot)
    ...(o.address === null ? [] : ['-device', `vfio-pci,host=${o.address}`]),
  ];
}
