// The registry: every uapi family, in the order candidates are listed when a
// number is shared. Adding an ioctl touches its family file (and its test);
// adding a family adds one line here.

import { buildRegistry, type Registry } from '../src/decode/registry.js';
import { container } from './container.js';
import { type1 } from './type1.js';
import { spapr } from './spapr.js';
import { eeh } from './eeh.js';
import { group } from './group.js';
import { device } from './device.js';
import { irqs } from './irqs.js';
import { hotreset } from './hotreset.js';
import { feature } from './feature.js';
import { cdev } from './cdev.js';
import { migration } from './migration.js';
import { iommufd } from './iommufd.js';

export const families = [container, type1, spapr, eeh, group, device, irqs, hotreset, feature, cdev, migration, iommufd] as const;

/** `T`, unless it widened to string: then never, so that nothing type-checks against it. */
type Literal<T extends string> = string extends T ? never : T;

/**
 * Every ioctl name the families describe, verbatim, taken from the
 * descriptions themselves (there is no second list to keep). Code that
 * dispatches on a name (src/model, src/audit, src/emulate) is checked
 * against it, so a misspelt name does not compile. A family exported as
 * plain `Family` would widen it to string: it is then never, and every such
 * use fails to compile until the family keeps its names (see `family()`).
 */
export type IoctlName = Literal<(typeof families)[number]['ioctls'][number]['name']>;

let all: Registry | null = null;

/** The registry of every family here: what the decoder, the capture rules and the filters are given. */
export function registry(): Registry {
  all ??= buildRegistry(families);
  return all;
}
