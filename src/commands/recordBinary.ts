// `vfiotrace record-binary [--arch ARCH]`: where the static vfiotrace-record
// for an architecture is, so it can be copied to a host without Node
// (docs/install.md, docs/power.md).

import { Command, Option } from 'commander';
import { fail, parseArgs } from '../render/cliOptions.js';
import { packageRoot, TraceError } from '../trace/native.js';
import { findNative, PREBUILT_ARCHES, type PrebuiltArch } from '../trace/platform.js';

export function cliCommand(): Command {
  return new Command('vfiotrace record-binary')
    .description('print the path of the static standalone recorder, vfiotrace-record, to copy to a host without Node (docs/power.md)')
    .addOption(new Option('--arch <arch>', "the recorder's architecture (default: this machine's)").choices([...PREBUILT_ARCHES]));
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const arch = cmd.opts<{ arch?: PrebuiltArch }>().arch;
  let root: string;
  try {
    root = packageRoot();
  } catch (e) {
    fail(e instanceof TraceError ? e.message : String(e));
    return 2;
  }
  const found = findNative(root, 'recorder', arch !== undefined ? { arch } : {});
  if ('error' in found) {
    fail(found.error);
    return 2;
  }
  process.stdout.write(`${found.file.path}\n`);
  return 0;
}
