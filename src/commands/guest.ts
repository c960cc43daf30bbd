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
import type { Profile } from '../emulate/profile.js';
import { eehOpName, eehStateName } from '../model/vfio.js';
import type { TraceOptions } from '../trace/native.js';
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

type Say = (s: string) => void;

/**
 * One run of a scenario as the guest's console and the emulated PE tell it:
 * when the guest came up, when the PE froze, what the guest concluded. The
 * console's lines and the emulator's hooks arrive as callbacks, so the state
 * lives here rather than in closures of one long function.
 */
class GuestRun {
  readonly t0 = Date.now();
  /** Set once the trace starts (in traceAndPrint's start hook). */
  session: EmulatedSession | null = null;
  ended = false;
  con: GuestConsole | null = null;
  private readyAt = -1;
  private frozenAt = -1;
  private readonly story = new PeStory(this.t0);
  private verdictAt = -1;
  private verdict = '';
  private done = false;

  constructor(
    private readonly permanent: boolean,
    private readonly showConsole: boolean,
    private readonly say: Say,
  ) {}

  at(): string {
    return secs(Date.now() - this.t0);
  }

  readonly onLine = (line: string): void => {
    if (this.showConsole || isEehLine(line)) this.say(`guest | ${line}`);
    if (line.startsWith(GUEST_READY) && this.frozenAt < 0 && this.session) this.freezeOnceUp(this.session);
    const v = EEH_VERDICTS.find((x) => line.includes(x));
    if (v && this.verdictAt < 0) {
      this.verdictAt = Date.now() - this.t0;
      this.verdict = v;
    }
    if (line.startsWith(GUEST_DONE)) this.done = true;
  };

  /**
   * The platform detects an error and freezes the PE; the guest does not know
   * yet. The guest is told to look only once the freeze is in place.
   */
  private freezeOnceUp(session: EmulatedSession): void {
    const permanent = this.permanent;
    this.readyAt = Date.now() - this.t0;
    void session.pe.freeze(permanent ? 'guest scenario: the adapter is dead' : 'guest scenario: an error froze the PE', permanent).then(() => {
      this.frozenAt = Date.now() - this.t0;
      this.story.frozen();
      this.say(`[host] ${this.at()}: guest up; PE frozen${permanent ? ' for good' : ''} (config space and BARs read all-ones); asking the guest to read its config space`);
      this.con?.send(HOST_GO);
    });
  }

  /** traceAndPrint's start hook: the emulated kernel, watched for the PE's ops and state changes. */
  startEmulation(t: TraceOptions, profile: Profile): EmulatedSession {
    const s = startEmulatedTrace(t, { profile, eeh: [] });
    this.session = s;
    s.pe.onOp((op, ret) => this.story.op(op, ret));
    s.pe.onChange((c) => {
      this.story.changed(c.state);
      if (this.frozenAt >= 0) this.say(`[host] ${this.at()}: PE ${eehStateName(c.state)} (${c.reason})`);
    });
    void s.done.finally(() => (this.ended = true));
    return s;
  }

  /** Says how the run went; the exit status: 0 if QEMU exited 0 and the guest reached the scenario's verdict. */
  report(qemuCode: number): number {
    const { permanent, verdict } = this;
    const recovered = verdict === EEH_RECOVERED;
    const wanted = permanent ? verdict !== '' && !recovered : recovered;
    this.say(`[host] ${this.at()} in all: guest up after ${this.readyAt < 0 ? '-' : secs(this.readyAt)}` +
      (this.verdictAt >= 0 ? `; EEH verdict ${secs(this.verdictAt - this.frozenAt)} after the freeze: "${verdict}"` : '; no EEH verdict from the guest') +
      `; QEMU exit status ${qemuCode}`);
    this.say(`[host] ${this.story.summary()}`);
    if (!this.done) fail('demo --guest: the guest did not finish its scenario');
    if (!wanted) fail(`demo --guest: expected the guest to ${permanent ? 'give up on the PE' : 'recover the PE'}${verdict ? `, it said "${verdict}"` : ''}`);
    return qemuCode === 0 && this.done && wanted ? 0 : 1;
  }
}

export async function runGuestScenario(o: GuestOptions): Promise<number> {
  const say: Say = (s) => void process.stdout.write(s + '\n');
  if (o.fetchOnly) return fetchOnly(say);
  const assets = guestAssets(say);
  if (typeof assets === 'number') return assets;
  const profile = resolveProfile('power-eeh');
  const work = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-guest-'));
  const initrd = path.join(work, 'initramfs.cpio');
  const sock = path.join(work, 'console.sock');
  writeFileSync(initrd, buildInitramfs(assets.busybox));
  say(`[host] ${o.scenario}: ${GUEST_SCENARIOS[o.scenario]}`);
  say(`[host] booting ${assets.kernelPackage} under qemu-system-ppc64 -M pseries (TCG) with vfio-pci host=${profile.address} on the emulated ${profile.name} kernel`);

  const run = new GuestRun(o.scenario === 'eeh-permanent', o.console === true, say);
  const killer = setTimeout(() => {
    fail(`demo --guest: no end after ${secs(SCENARIO_DEADLINE_MS)}; stopping QEMU`);
    run.session?.signal('SIGTERM');
  }, SCENARIO_DEADLINE_MS);
  const traced = traceAndPrint({
    command: qemuArgv({ kernel: assets.kernel, initrd, sock, address: profile.address }),
    follow: true,
    allIoctls: false,
    payloadCap: 4096,
    ...(o.recordTo !== undefined ? { recordTo: o.recordTo } : {}),
    output: guestOutput(o.output),
    start: (t) => run.startEmulation(t, profile),
  });
  try {
    run.con = await connectConsole(sock, run.onLine, 120_000, () => !run.ended);
  } catch (e) {
    fail(`demo --guest: ${(e as Error).message}`);
    run.session?.signal('SIGTERM');
  }
  const outcome = await traced;
  clearTimeout(killer);
  run.con?.close();
  rmSync(work, { recursive: true, force: true });
  return run.report(outcome.code);
}

/** The guest's files, or the exit status if they cannot be had (or emulation cannot run here). */
function guestAssets(say: Say): GuestAssets | number {
  const why = emulationUnavailable() ?? missingTools();
  if (why) {
    fail(`demo --guest: ${why}`);
    return 2;
  }
  try {
    return ensureAssets((s) => say(`[host] fetching the guest: ${s}`));
  } catch (e) {
    fail(`demo --guest: cannot fetch the guest's kernel and busybox: ${(e as Error).message}`);
    return 2;
  }
}

/** The EEH calls by default, with times; the guest's lines go to stdout, so does the trace. */
function guestOutput(o: OutputFlags): OutputFlags {
  return {
    ...o,
    expr: o.expr && o.expr.length > 0 ? o.expr : ['eeh'],
    time: o.time || 2,
    output: o.output ?? '-',
  };
}

function fetchOnly(say: Say): number {
  try {
    const a = ensureAssets((s) => say(`[host] fetching the guest: ${s}`));
    say(`[host] guest files cached: ${a.kernel} (${a.kernelPackage}), ${a.busybox}`);
    return 0;
  } catch (e) {
    fail(`demo --guest: cannot fetch the guest's kernel and busybox: ${(e as Error).message}`);
    return 2;
  }
}
