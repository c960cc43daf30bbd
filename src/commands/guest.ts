// `vfiotrace demo --guest eeh|eeh-permanent`: a real Linux guest meets EEH.
// Debian's ppc64el kernel boots under qemu-system-ppc64 -M pseries (TCG) with
// a vfio-pci function that the emulated power-eeh kernel answers. Once the
// guest is up, the platform freezes the PE (as on an error); the guest reads
// the function's config space the ordinary way, sees all-ones, and its EEH
// core takes over: recovery (eeh), or, when the PE never thaws, giving up
// (eeh-permanent). Prints the guest's EEH lines and the decoded EEH calls.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, type OutputFlags } from '../render/cliOptions.js';
import { ensureAssets, missingTools, type GuestAssets } from '../guest/assets.js';
import { connectConsole, qemuArgv, type GuestConsole } from '../guest/console.js';
import { buildInitramfs, EEH_RECOVERED, EEH_VERDICTS, GUEST_DONE, GUEST_MARK, GUEST_READY, HOST_GO } from '../guest/initramfs.js';
import { resolveProfile } from '../emulate/profiles/index.js';
import { startEmulatedTrace, type EmulatedSession } from '../emulate/session.js';
import { eehOpName, eehStateName } from '../model/vfio.js';
import { VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_STATE_NORMAL } from '../../decoders/eeh.js';
import { emulationUnavailable } from './emulate.js';
import { traceAndPrint } from './trace.js';

export const GUEST_SCENARIOS = {
  eeh: 'the PE freezes once; the guest detects it by a config read and recovers it',
  'eeh-permanent': 'the PE freezes for good; the guest detects it, tries to recover and gives up',
} as const;
export type GuestScenario = keyof typeof GUEST_SCENARIOS;

export interface GuestOptions {
  scenario: GuestScenario;
  output: OutputFlags;
  recordTo?: string;
  /** Print every console line, not only the EEH ones. */
  console?: boolean;
  /** Only fetch and cache the guest's files (CI warms the cache this way). */
  fetchOnly?: boolean;
}

/** The whole run may take this long before QEMU is stopped (boot is ~1 min under TCG). */
const SCENARIO_DEADLINE_MS = 15 * 60_000;

const secs = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The PE's story from the freeze on, as the emulated kernel saw it. */
class PeStory {
  frozenAt = -1;
  detectedAt = -1;
  detectedState = -1;
  recoveredAt = -1;
  /** The recovery is complete: later ops are the guest's ordinary business. */
  private closed = false;
  resets = 0;
  /** Ops other than GET_STATE between the freeze and the recovery. */
  readonly ops: string[] = [];

  constructor(private readonly t0: number) {}

  private now(): number {
    return Date.now() - this.t0;
  }

  frozen(): void {
    this.frozenAt = this.now();
  }

  /** Called after the op's state change (if any) was announced. */
  op(op: number, ret: number): void {
    if (this.frozenAt < 0 || this.closed) return;
    if (this.recoveredAt >= 0) this.closed = true;
    if (op !== VFIO_EEH_PE_GET_STATE) this.ops.push(eehOpName(op).replace(/^VFIO_EEH_PE_/, ''));
    if (op === VFIO_EEH_PE_RESET_HOT) this.resets++;
    if (op === VFIO_EEH_PE_GET_STATE && this.detectedAt < 0) {
      this.detectedAt = this.now();
      this.detectedState = ret;
    }
  }

  changed(state: number): void {
    if (this.frozenAt >= 0 && this.recoveredAt < 0 && state === VFIO_EEH_PE_STATE_NORMAL) this.recoveredAt = this.now();
  }

  summary(): string {
    if (this.frozenAt < 0) return 'the PE was never frozen';
    const parts = [`PE frozen at ${secs(this.frozenAt)}`];
    parts.push(this.detectedAt < 0 ? 'the guest never asked its state' : `detected ${secs(this.detectedAt - this.frozenAt)} later (GET_STATE = ${eehStateName(this.detectedState)})`);
    if (this.recoveredAt >= 0) parts.push(`recovered ${secs(this.recoveredAt - this.frozenAt)} after the freeze by ${this.ops.join(', ')}`);
    else parts.push(`never recovered (${this.resets} reset${this.resets === 1 ? '' : 's'} tried: ${this.ops.join(', ') || 'none'})`);
    return parts.join('; ');
  }
}

function isEehLine(line: string): boolean {
  return /\bEEH\b|\beeh\b/.test(line) || line.startsWith(GUEST_MARK);
}

export async function runGuestScenario(o: GuestOptions): Promise<number> {
  const say = (s: string): void => void process.stdout.write(s + '\n');
  if (o.fetchOnly) return fetchOnly(say);
  const why = emulationUnavailable() ?? missingTools();
  if (why) {
    fail(`demo --guest: ${why}`);
    return 2;
  }
  let assets: GuestAssets;
  try {
    assets = ensureAssets((s) => say(`[host] fetching the guest: ${s}`));
  } catch (e) {
    fail(`demo --guest: cannot fetch the guest's kernel and busybox: ${(e as Error).message}`);
    return 2;
  }
  const profile = resolveProfile('power-eeh');
  const work = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-guest-'));
  const initrd = path.join(work, 'initramfs.cpio');
  const sock = path.join(work, 'console.sock');
  writeFileSync(initrd, buildInitramfs(assets.busybox));
  const permanent = o.scenario === 'eeh-permanent';
  say(`[host] ${o.scenario}: ${GUEST_SCENARIOS[o.scenario]}`);
  say(`[host] booting ${assets.kernelPackage} under qemu-system-ppc64 -M pseries (TCG) with vfio-pci host=${profile.address} on the emulated ${profile.name} kernel`);

  const t0 = Date.now();
  const at = (): string => secs(Date.now() - t0);
  // Set once the trace starts (in traceAndPrint's start hook).
  const live: { session: EmulatedSession | null } = { session: null };
  let ended = false;
  let con: GuestConsole | null = null;
  let readyAt = -1;
  let frozenAt = -1;
  const story = new PeStory(t0);
  let verdictAt = -1;
  let verdict = '';
  let done = false;

  const onLine = (line: string): void => {
    if (o.console || isEehLine(line)) say(`guest | ${line}`);
    if (line.startsWith(GUEST_READY) && frozenAt < 0 && live.session) {
      readyAt = Date.now() - t0;
      // The platform detects an error and freezes the PE; the guest does not know yet.
      // The guest is told to look only once the freeze is in place.
      void live.session.pe.freeze(permanent ? 'guest scenario: the adapter is dead' : 'guest scenario: an error froze the PE', permanent).then(() => {
        frozenAt = Date.now() - t0;
        story.frozen();
        say(`[host] ${at()}: guest up; PE frozen${permanent ? ' for good' : ''} (config space and BARs read all-ones); asking the guest to read its config space`);
        con?.send(HOST_GO);
      });
    }
    const v = EEH_VERDICTS.find((x) => line.includes(x));
    if (v && verdictAt < 0) {
      verdictAt = Date.now() - t0;
      verdict = v;
    }
    if (line.startsWith(GUEST_DONE)) done = true;
  };

  const killer = setTimeout(() => {
    fail(`demo --guest: no end after ${secs(SCENARIO_DEADLINE_MS)}; stopping QEMU`);
    live.session?.signal('SIGTERM');
  }, SCENARIO_DEADLINE_MS);

  const output: OutputFlags = {
    ...o.output,
    // The EEH calls by default, with times; the guest's lines go to stdout, so does the trace.
    expr: o.output.expr && o.output.expr.length > 0 ? o.output.expr : ['eeh'],
    time: o.output.time || 2,
    output: o.output.output ?? '-',
  };
  const traced = traceAndPrint({
    command: qemuArgv({ kernel: assets.kernel, initrd, sock, address: profile.address }),
    follow: true,
    allIoctls: false,
    payloadCap: 4096,
    ...(o.recordTo !== undefined ? { recordTo: o.recordTo } : {}),
    output,
    start: (t) => {
      const s = startEmulatedTrace(t, { profile, eeh: [] });
      live.session = s;
      s.pe.onOp((op, ret) => story.op(op, ret));
      s.pe.onChange((c) => {
        story.changed(c.state);
        if (frozenAt >= 0) say(`[host] ${at()}: PE ${eehStateName(c.state)} (${c.reason})`);
      });
      void s.done.finally(() => (ended = true));
      return s;
    },
  });
  try {
    con = await connectConsole(sock, onLine, 120_000, () => !ended);
  } catch (e) {
    fail(`demo --guest: ${(e as Error).message}`);
    live.session?.signal('SIGTERM');
  }
  const outcome = await traced;
  clearTimeout(killer);
  con?.close();
  rmSync(work, { recursive: true, force: true });

  const recovered = verdict === EEH_RECOVERED;
  const wanted = permanent ? verdict !== '' && !recovered : recovered;
  say(`[host] ${at()} in all: guest up after ${readyAt < 0 ? '-' : secs(readyAt)}` +
    (verdictAt >= 0 ? `; EEH verdict ${secs(verdictAt - frozenAt)} after the freeze: "${verdict}"` : '; no EEH verdict from the guest') +
    `; QEMU exit status ${outcome.code}`);
  say(`[host] ${story.summary()}`);
  if (!done) fail('demo --guest: the guest did not finish its scenario');
  if (!wanted) fail(`demo --guest: expected the guest to ${permanent ? 'give up on the PE' : 'recover the PE'}${verdict ? `, it said "${verdict}"` : ''}`);
  return outcome.code === 0 && done && wanted ? 0 : 1;
}

function fetchOnly(say: (s: string) => void): number {
  try {
    const a = ensureAssets((s) => say(`[host] fetching the guest: ${s}`));
    say(`[host] guest files cached: ${a.kernel} (${a.kernelPackage}), ${a.busybox}`);
    return 0;
  } catch (e) {
    fail(`demo --guest: cannot fetch the guest's kernel and busybox: ${(e as Error).message}`);
    return 2;
  }
}
