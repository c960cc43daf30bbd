// Built-in profiles by name, and resolution of --device (a name or a JSON file).

import { existsSync } from 'node:fs';
import { checkAddress, checkKernel, loadProfileFile, type Profile } from '../profile.js';
import { edu } from './edu.js';
import { powerEeh } from './powerEeh.js';
import { x86Pci } from './x86pci.js';

export const BUILTIN_PROFILES: Readonly<Record<string, Profile>> = {
  'x86-pci': x86Pci,
  'power-eeh': powerEeh,
  edu,
};

export interface ProfileOverrides {
  address?: string | undefined;
  group?: number | undefined;
  /** --kernel: whose answers to give where releases differ. */
  kernel?: string | undefined;
}

/** `--device NAME|FILE.json`, with --address / --group applied. */
export function resolveProfile(device: string, over: ProfileOverrides = {}): Profile {
  const builtin = BUILTIN_PROFILES[device];
  let p: Profile;
  if (builtin) p = structuredClone(builtin);
  else if (existsSync(device)) p = loadProfileFile(device);
  else throw new Error(`unknown device profile "${device}" (built-in: ${Object.keys(BUILTIN_PROFILES).join(', ')}; or a JSON file)`);
  if (over.address !== undefined) p.address = checkAddress(over.address);
  if (over.group !== undefined) {
    if (!Number.isInteger(over.group) || over.group < 0 || over.group > 1_000_000) throw new Error(`bad IOMMU group ${over.group}`);
    p.group = over.group;
  }
  if (over.kernel !== undefined) p.kernel = checkKernel(over.kernel);
  return p;
}
