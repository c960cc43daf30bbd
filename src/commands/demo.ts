// `vfiotrace demo` (what `npm start` runs): traces the bundled demo VFIO
// client inside a private /dev, where the VFIO paths are plain files. The
// kernel then answers every VFIO ioctl with ENOTTY, and that is what shows.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { addOutputOptions, fail, outputFlags, parseArgs, type OutputFlags } from '../render/cliOptions.js';
import { packageRoot } from '../trace/native.js';
import { sandboxArgv, sandboxAvailable } from '../trace/sandbox.js';
import { emulationUnavailable, runDemoEmulated } from './emulate.js';
import { GUEST_SCENARIOS, runGuestScenario, type GuestScenario } from './guest.js';
import { traceAndPrint } from './trace.js';

export function demoClientPath(): string {
  return path.join(packageRoot(), 'test', 'fixtures', 'build', 'demo_client');
}

export function cliCommand(): Command {
  return addOutputOptions(
    new Command('vfiotrace demo')
      .description('trace the bundled demo VFIO client in a private mount namespace (no VFIO hardware needed)')
      .option('--device <profile>', 'emulated machine answering the calls: power-eeh, x86-pci, or none (the kernel answers ENOTTY)', 'power-eeh')
      .option('--guest <scenario>', `boot a Linux guest under QEMU instead of the demo client: ${Object.entries(GUEST_SCENARIOS).map(([k, v]) => `${k} (${v})`).join('; ')}. See docs/guest.md`)
      .option('--console', 'with --guest: print every line of the guest console, not only the EEH ones')
      .option('--fetch-only', 'with --guest: only fetch and cache the guest\'s kernel and busybox')
      .option('-w, --write <file>', 'also record the raw event stream to FILE (print it later with `vfiotrace show FILE`)'),
    'stderr',
  );
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const flags = outputFlags(cmd.opts());
  const opts = cmd.opts<Record<string, unknown>>();
  const recordTo = typeof opts.write === 'string' ? opts.write : undefined;
  if (opts.guest === undefined && (opts.console === true || opts.fetchOnly === true)) {
    fail(`${opts.console === true ? '--console' : '--fetch-only'} goes with --guest SCENARIO`);
    return 2;
  }
  if (opts.guest !== undefined) {
    const scenario = String(opts.guest);
    if (!(scenario in GUEST_SCENARIOS)) {
      fail(`unknown guest scenario "${scenario}" (${Object.keys(GUEST_SCENARIOS).join(', ')})`);
      return 2;
    }
    return runGuestScenario({ scenario: scenario as GuestScenario, output: flags, console: opts.console === true, fetchOnly: opts.fetchOnly === true, ...(recordTo !== undefined ? { recordTo } : {}) });
  }

  let client: string;
  try {
    client = demoClientPath();
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  if (!existsSync(client)) {
    // An installed package has no test programs; a clone has their sources.
    const clone = existsSync(path.join(path.dirname(client), '..', 'demo_client.c'));
    fail(clone
      ? `demo client not built (${client} missing): run \`npm run build\``
      : 'the demo runs from a clone: its client is a test program, not part of the installed package (docs/install.md)');
    return 2;
  }
  const device = String(cmd.opts().device);
  if (device !== 'none') {
    const why = emulationUnavailable();
    if (why === null) {
      const r = await runDemoEmulated(client, device, flags, recordTo);
      if (r.started) noteStream(flags).write(r.note);
      return r.code;
    }
    process.stderr.write(`vfiotrace demo: no emulation here (${why}); showing the plain sandbox instead\n`);
  }
  const sandbox = sandboxAvailable();
  if (!sandbox.ok) {
    fail(`demo needs a private mount namespace: ${sandbox.reason}`);
    return 2;
  }
  const outcome = await traceAndPrint({
    command: sandboxArgv([client]),
    follow: false,
    allIoctls: false,
    payloadCap: 4096,
    ...(recordTo !== undefined ? { recordTo } : {}),
    output: flags,
  });
  const note = `${outcome.shown} VFIO ioctl${outcome.shown === 1 ? '' : 's'} traced ` +
    '(no VFIO hardware here, so the kernel answers ENOTTY); run `vfiotrace --help` for more\n';
  // Nothing was traced when an option was refused: no note under the error.
  if (outcome.started) noteStream(flags).write(note);
  return outcome.code;
}

/**
 * The closing note follows a text trace (stderr, like any live trace, or
 * stdout with `-o -`). JSON lines get no note in their stream, so they stay
 * machine-readable: it goes to the other one (stderr with -o FILE).
 */
function noteStream(flags: OutputFlags): NodeJS.WriteStream {
  const onStdout = flags.output === '-';
  if (!flags.json) return onStdout ? process.stdout : process.stderr;
  return flags.output === undefined ? process.stdout : process.stderr;
}
