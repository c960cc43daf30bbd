// Comparing and dispatching on ioctl names, checked against the names the
// decoders describe (IoctlName): a name written here that no description
// has does not compile, where a plain string literal would compile and
// never match. Decoded events and emulated calls carry the name as a plain
// string, so these take the call's name as it comes and only the name
// written in code is typed.

import type { IoctlName } from '../../decoders/index.js';

export type { IoctlName };

/** Whether a call's name (`ev.ioctl`, `c.name`) is the ioctl `want`. */
export function isIoctl(name: string | null, want: IoctlName): boolean {
  return name === want;
}

/** A set of ioctl names, asked with a call's name (null: not a described ioctl, in no set). */
export function ioctlSet(names: readonly IoctlName[]): ReadonlySet<string | null> {
  return new Set<string>(names);
}

/**
 * What to do per ioctl, looked up with a call's name. Its keys are the
 * ioctls it handles: the tests list the described ioctls no table has.
 */
export type IoctlTable<H> = ReadonlyMap<string, H>;

/**
 * A table from an object literal keyed by ioctl name: a key that is not an
 * IoctlName is an excess property, which does not compile.
 */
export function ioctlTable<H>(handlers: { readonly [K in IoctlName]?: H }): IoctlTable<H> {
  const table = new Map<string, H>();
  for (const [name, h] of Object.entries(handlers)) if (h !== undefined) table.set(name, h);
  return table;
}
