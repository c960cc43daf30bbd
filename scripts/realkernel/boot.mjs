// Boots a Debian kernel under TCG with an Intel IOMMU and QEMU's edu and
// e1000e devices, runs the corpus clients in the guest under the static
// recorder (init.sh), and returns what came back over the second serial port.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');

/** The guest's test devices: corpus name, vendor:device, and QEMU's -device arguments. */
export const DEVICES = [
  { name: 'edu', ids: '1234:11e8', qemu: ['-device', 'edu'] },
  { name: 'e1000e', ids: '8086:10d3', qemu: ['-device', 'pcie-root-port,id=rp0,chassis=1', '-device', 'e1000e,bus=rp0'] },
];

/**
 * The corpus: each entry is recorded once per device as `NAME.DEVICE`.
 * `client` is the program (native/build/realkernel/CLIENT), `record` how
 * vfiotrace-record traces it: `spawn` (`-o F -- CLIENT ADDR`), `follow`
 * (the same with `-f`) or `attach` (the client is started alone, and
 * `-p PID` attaches once it says it is ready; init.sh, docs/realkernel.md).
 */
export const CORPUS = [
  ...['setup', 'argsz', 'indexes', 'dma', 'reset', 'threads'].map((name) => ({ name, client: name, record: 'spawn' })),
  { name: 'forks', client: 'forks', record: 'follow' },
  { name: 'forks-nofollow', client: 'forks', record: 'spawn' },
  { name: 'attach', client: 'attach', record: 'attach' },
  { name: 'lifetimes', client: 'lifetimes', record: 'follow' },
];
/**
 * The same clients recorded with the eBPF backend (the recorder's --backend
 * bpf): the guest test holds each to the golden of its ptrace twin, so the
 * backend is checked on real vfio-pci and on kernels other than the host's
 * (its CO-RE relocations, its tracepoints). Not goldens of their own.
 */
export const BPF_CORPUS = [
  ...['setup', 'argsz', 'threads'].map((name) => ({ name: `${name}-bpf`, client: name, record: 'spawn', backend: 'bpf', twin: name })),
  { name: 'forks-bpf', client: 'forks', record: 'follow', backend: 'bpf', twin: 'forks' },
  { name: 'attach-bpf', client: 'attach', record: 'attach', backend: 'bpf', twin: 'attach' },
];
export const CLIENT_DIR = path.join(ROOT, 'native', 'build', 'realkernel');
export const RECORDER = path.join(ROOT, 'native', 'build', 'vfiotrace-record');

function mustExist(file, how) {
  if (!existsSync(file)) throw new Error(`${file} is missing: ${how}`);
}

/** Writes a gzipped newc cpio of `stage` to `out`, with the host-run busybox cpio. */
function cpio(busybox, stage, out) {
  const list = execFileSync(busybox, ['find', '.'], { cwd: stage, encoding: 'utf8' });
  const archive = execFileSync(busybox, ['cpio', '-o', '-H', 'newc'], { cwd: stage, input: list, maxBuffer: 256 << 20, stdio: ['pipe', 'pipe', 'ignore'] });
  writeFileSync(out, execFileSync('gzip', ['-1'], { input: archive, maxBuffer: 256 << 20 }));
}

/** Builds the initramfs for a prepared kernel (see fetch.mjs). */
export function buildInitramfs(kernel, work, corpus = CORPUS) {
  mustExist(RECORDER, 'run `npm install` (or `make -C native recorder`)');
  const clients = [...new Set(corpus.map((e) => e.client))];
  for (const c of clients) mustExist(path.join(CLIENT_DIR, c), 'run `make -C test/realkernel/clients`');
  const stage = path.join(work, 'stage');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'clients', 'lib/modules']) mkdirSync(path.join(stage, d), { recursive: true });
  copyFileSync(kernel.busybox, path.join(stage, 'bin', 'busybox'));
  copyFileSync(RECORDER, path.join(stage, 'bin', 'vfiotrace-record'));
  copyFileSync(path.join(here, 'init.sh'), path.join(stage, 'init'));
  for (const c of clients) copyFileSync(path.join(CLIENT_DIR, c), path.join(stage, 'clients', c));
  for (const m of kernel.modules) copyFileSync(path.join(kernel.dir, 'modules', `${m}.ko`), path.join(stage, 'lib', 'modules', `${m}.ko`));
  for (const f of ['bin/busybox', 'bin/vfiotrace-record', 'init', ...clients.map((c) => `clients/${c}`)]) chmodSync(path.join(stage, f), 0o755);
  writeFileSync(path.join(stage, 'modules.order'), kernel.modules.join('\n') + '\n');
  writeFileSync(path.join(stage, 'corpus'), corpus.map((e) => `${e.name} ${e.client} ${e.record} ${e.backend ?? 'ptrace'}`).join('\n') + '\n');
  writeFileSync(path.join(stage, 'devices'), DEVICES.map((d) => `${d.name}:${d.ids}`).join('\n') + '\n');
  const out = path.join(work, 'initramfs.cpio.gz');
  cpio(kernel.busybox, stage, out);
  return out;
}

export function qemuArgs(kernel, initrd, consoleLog, dataLog) {
  return [
    '-M', 'q35,kernel-irqchip=split', '-accel', 'tcg', '-m', '512', '-smp', '1',
    '-device', 'intel-iommu,intremap=on',
    ...DEVICES.flatMap((d) => d.qemu),
    '-kernel', kernel.vmlinuz, '-initrd', initrd,
    // no_timer_check: the boot-time IO-APIC timer test counts ticks over a
    // delay loop, which a loaded TCG host can starve; with interrupt
    // remapping the kernel then panics ("timer doesn't work through
    // Interrupt-remapped IO-APIC", about one boot in 20 on a busy machine).
    '-append', 'console=ttyS0 intel_iommu=on iommu=pt panic=-1 no_timer_check',
    '-display', 'none', '-nodefaults', '-no-reboot',
    '-serial', `file:${consoleLog}`, '-serial', `file:${dataLog}`,
  ];
}

/** Parses the data port: devices, per-item base64 blocks, exit codes, times (guest uptime; per item, seconds spent recording it). */
export function parseData(text) {
  const res = { release: null, devices: [], items: {}, status: {}, errors: [], times: {}, itemTimes: {}, done: false };
  let cur = null;
  let buf = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (cur) {
      if (line === `RK-END ${cur}`) {
        res.items[cur] = Buffer.from(buf.join(''), 'base64');
        cur = null;
        buf = [];
      } else buf.push(line);
      continue;
    }
    const [tag, ...rest] = line.split(' ');
    if (tag === 'RK-HELLO') [res.release, res.times.hello] = [rest[0], Number(rest[1])];
    else if (tag === 'RK-DEVICE') res.devices.push({ name: rest[0], address: rest[1], group: Number(rest[2]) });
    else if (tag === 'RK-CORPUS-START') res.times.corpusStart = Number(rest[0]);
    else if (tag === 'RK-CORPUS-END') res.times.corpusEnd = Number(rest[0]);
    else if (tag === 'RK-RESULT') res.status[rest[0]] = Number(rest[1]);
    else if (tag === 'RK-TIME') res.itemTimes[rest[0]] = Number(rest[2]) - Number(rest[1]);
    else if (tag === 'RK-BEGIN') cur = rest[0];
    else if (tag === 'RK-ERROR') res.errors.push(rest.join(' '));
    else if (tag === 'RK-DONE') res.done = true;
  }
  return res;
}

/** Boots the guest and waits for it to power off (or `timeoutMs`). */
export async function bootGuest(kernel, { timeoutMs = 600_000, corpus = CORPUS, keep = false } = {}) {
  const qemu = process.env.QEMU_SYSTEM_X86_64 ?? 'qemu-system-x86_64';
  if (spawnSync(qemu, ['--version']).error) throw new Error(`${qemu} not found: install qemu-system-x86 (apt-get install qemu-system-x86)`);
  const work = mkdtempSync(path.join(tmpdir(), 'vfiotrace-realkernel-'));
  try {
    const initrd = buildInitramfs(kernel, work, corpus);
    const consoleLog = path.join(work, 'console.log');
    const dataLog = path.join(work, 'data.log');
    const t0 = performance.now();
    const child = spawn(qemu, qemuArgs(kernel, initrd, consoleLog, dataLog), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise((resolve) => child.on('close', (c, sig) => resolve(sig ?? c)));
    clearTimeout(timer);
    const wallMs = performance.now() - t0;
    const data = parseData(existsSync(dataLog) ? readFileSync(dataLog, 'latin1') : '');
    const consoleText = existsSync(consoleLog) ? readFileSync(consoleLog, 'latin1') : '';
    if (!data.done) {
      const tail = consoleText.trim().split('\n').slice(-5).join(' | ');
      const why = data.errors[0] ?? (code === 'SIGKILL' ? `no answer within ${timeoutMs / 1000} s` : `qemu exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
      throw new Error(`guest ${kernel.release} did not finish the corpus: ${why} (console: ${tail})`);
    }
    return { ...data, wallMs, console: consoleText, work: keep ? work : null };
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}
