// `vfiotrace emulate --device PROFILE [trace options] -- CMD…`: run a VFIO
// client against the emulated kernel (src/emulate/) and trace it. Also what
// `demo` (npm start) runs by default: runDemoEmulated, the bundled demo
// client under an emulated machine, every call succeeding; under power-eeh a
// scripted freeze shows EEH recovery.

import { Command } from 'commander';
import { addOutputOptions, fail, outputFlags, parseArgs, type OutputFlags } from '../render/cliOptions.js';
import { parseEehScript, type EehRule } from '../emulate/eehScript.js';
import { BUILTIN_PROFILES, resolveProfile } from '../emulate/profiles/index.js';
import { DEFAULT_KERNEL, KERNEL_VERSIONS, type Profile } from '../emulate/profile.js';
import { checkMachine } from '../emulate/kernel.js';
import { startEmulatedTrace, type EmulationPath, type EmulationSetup } from '../emulate/session.js';
import { sandboxAvailable } from '../trace/sandbox.js';
import { traceAndPrint, type LiveOutcome } from './trace.js';
import { checkLiveArgs, payloadCapOption } from './liveArgs.js';

export interface EmulatedRun {
  profile: Profile;
  /** Further functions (`--device` given again), each in a group of its own. */
  more?: readonly Profile[];
  eeh?: readonly EehRule[];
  command: string[];
  output: OutputFlags;
  payloadCap?: number;
  follow?: boolean;
  recordTo?: string;
  /** How calls are answered (default: the listener, else ptrace stops). */
  via?: EmulationPath;
}

/** Why emulation cannot run here, or null. */
export function emulationUnavailable(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'emulation needs root (it mounts a private /dev and /sys for the traced command)';
  const sb = sandboxAvailable();
  return sb.ok ? null : sb.reason;
}

/** Traces `command` under the emulated kernel and prints it; errors are printed. */
export async function runEmulated(r: EmulatedRun): Promise<LiveOutcome> {
  const why = emulationUnavailable();
  if (why) {
    fail(why);
    return { code: 2, shown: 0, started: false };
  }
  return traceAndPrint({
    command: r.command,
    follow: r.follow ?? false,
    allIoctls: false,
    payloadCap: r.payloadCap ?? 4096,
    ...(r.recordTo !== undefined ? { recordTo: r.recordTo } : {}),
    output: r.output,
    start: (t) => startEmulatedTrace(t, { profile: r.profile, more: r.more ?? [], eeh: r.eeh ?? [], ...(r.via ? { via: r.via } : {}) }),
  });
}

/** The PE freezes on the first ENABLE and stays frozen until the client's reset sequence. */
export const DEMO_EEH_SCRIPT = 'after 1 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE';

export interface DemoOutcome extends LiveOutcome {
  /** The closing line for the user. */
  note: string;
}

/** Runs the demo client (`client`, built from test/fixtures/demo_client.c) under `device`. */
export async function runDemoEmulated(client: string, device: string, output: OutputFlags, recordTo?: string): Promise<DemoOutcome> {
  const profile = resolveProfile(device);
  const eeh = profile.eeh ? parseEehScript(DEMO_EEH_SCRIPT) : [];
  const mode = profile.iommu === 'spapr' ? 'spapr' : 'type1';
  const o = await runEmulated({ profile, eeh, command: [client, mode], output, ...(recordTo !== undefined ? { recordTo } : {}) });
  const what = profile.eeh ? '; the PE froze after ENABLE and the client recovered it' : '';
  const note =
    `${o.shown} VFIO ioctl${o.shown === 1 ? '' : 's'} answered by the emulated ${profile.name} kernel (${profile.description})${what}; ` +
    'see `vfiotrace emulate --help`\n';
  return { ...o, note };
}

export function cliCommand(): Command {
  return addOutputOptions(
    new Command('vfiotrace emulate')
      .usage('--device PROFILE [options] [--] COMMAND [ARGS…]')
      .description('Run a VFIO client against an emulated VFIO kernel (no VFIO hardware needed) and trace it.')
      .argument('[command...]', 'command to run')
      .requiredOption(
        '--device <profile>',
        `device profile: ${Object.keys(BUILTIN_PROFILES).join(', ')}, or a JSON file (docs/emulation.md); ` +
          'again for more functions, each in its own group: PROFILE,address=ADDR,group=N',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--address <addr>', 'PCI address of the (first) emulated function (default: the profile\'s)')
      .option('--group <n>', 'IOMMU group number of the (first) function (default: the profile\'s)')
      .option('--kernel <version>', `answer as this kernel release where releases differ: ${KERNEL_VERSIONS.join(', ')} (default ${DEFAULT_KERNEL})`)
      .option('--eeh <script>', 'EEH fault injection, e.g. "after 3 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE"')
      .option('--answer-via <how>', 'how calls are answered: notify (a seccomp listener, ~10 us a call; the default) or ptrace (a stop per call, ~100 us); without a listener, ptrace (said on stderr)')
      .option('-f, --follow-forks', 'accepted for symmetry: children are always followed (their calls must be answered too)')
      .addOption(payloadCapOption())
      .option('-w, --write <file>', 'also record the raw event stream to FILE')
      .passThroughOptions()
      .addHelpText('after', `
The command sees /dev/vfio/vfio, /dev/vfio/GROUP and /sys/bus/pci/devices/ADDR
in a private mount namespace; nothing changes on the host. Needs root.
Example:
  vfiotrace emulate --device x86-pci -- qemu-system-x86_64 -M q35 -S -display none \\
      -monitor stdio -device vfio-pci,host=0000:01:00.0`),
    'stderr',
  );
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const o = cmd.opts<Record<string, unknown>>();
  const command = cmd.args;
  if (command.length === 0) {
    fail('must have COMMAND [ARGS] (see vfiotrace emulate --help)');
    return 2;
  }
  let profile: Profile;
  let more: Profile[];
  let eeh: EehRule[] = [];
  try {
    const kernel = typeof o.kernel === 'string' ? o.kernel : undefined;
    const [first, ...rest] = (o.device as string[]).map((d) => deviceSpec(d));
    profile = resolveProfile(first!.device, {
      address: typeof o.address === 'string' ? o.address : first!.address,
      group: groupNumber(o.group) ?? first!.group,
      kernel,
    });
    more = rest.map((d) => resolveProfile(d.device, { address: d.address, group: d.group, kernel }));
    checkMachine([profile, ...more]);
    if (typeof o.eeh === 'string') {
      eeh = parseEehScript(o.eeh);
      if (!profile.eeh && eeh.length > 0) throw new Error(`--eeh needs a profile with EEH (power-eeh), not ${profile.name}`);
      if (eeh.length > 0 && more.length > 0) throw new Error('--eeh drives one PE: give one --device with it');
    }
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  const via = o.answerVia;
  if (via !== undefined && via !== 'notify' && via !== 'ptrace') {
    fail(`--answer-via: notify or ptrace, not '${String(via)}'`);
    return 2;
  }
  const args = checkLiveArgs({ pids: [], payloadCap: o.payloadCap, command });
  if ('error' in args) {
    fail(args.error);
    return 2;
  }
  const outcome = await runEmulated({
    profile,
    more,
    eeh,
    command,
    output: outputFlags(o),
    payloadCap: args.payloadCap,
    follow: o.followForks === true,
    ...(typeof o.write === 'string' ? { recordTo: o.write } : {}),
    ...(via !== undefined ? { via } : {}),
  });
  return outcome.code;
}

function groupNumber(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(String(v))) throw new Error(`invalid IOMMU group '${String(v)}'`);
  return Number(v);
}

/** `PROFILE[,address=ADDR][,group=N]`: one --device. */
export function deviceSpec(spec: string): { device: string; address?: string; group?: number } {
  const [device, ...opts] = spec.split(',');
  const out: { device: string; address?: string; group?: number } = { device: device ?? '' };
  for (const kv of opts) {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq);
    const value = kv.slice(eq + 1);
    if (eq < 0 || !['address', 'group'].includes(key)) throw new Error(`--device ${spec}: want PROFILE[,address=ADDR][,group=N], not "${kv}"`);
    if (key === 'address') out.address = value;
    else out.group = groupNumber(value)!;
  }
  return out;
}

/** `--emulate PROFILE [--eeh SCRIPT]` of other commands (tui): the setup, or null. Throws a usage error. */
export function emulationFromOptions(profile: unknown, eeh: unknown, hasCommand: boolean): EmulationSetup | null {
  if (profile === undefined) {
    if (eeh !== undefined) throw new Error('--eeh needs --emulate');
    return null;
  }
  if (!hasCommand) throw new Error('--emulate runs a command (-- COMMAND), it cannot attach');
  const why = emulationUnavailable();
  if (why) throw new Error(why);
  const p = resolveProfile(String(profile));
  const rules = typeof eeh === 'string' ? parseEehScript(eeh) : [];
  if (rules.length > 0 && !p.eeh) throw new Error(`--eeh needs a profile with EEH (power-eeh), not ${p.name}`);
  return { profile: p, eeh: rules };
}
