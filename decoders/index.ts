// The registry: every uapi family, in the order candidates are listed when a
// number is shared. Adding an ioctl touches its family file (and its test);
// adding a family adds one line here.

import type { Family } from '../src/decode/ioctlDesc.js';
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

export const families: readonly Family[] = [container, type1, spapr, eeh, group, device, irqs, hotreset, feature, cdev, migration, iommufd];

let all: Registry | null = null;

/** The registry of every family here: what the decoder, the capture rules and the filters are given. */
export function registry(): Registry {
  all ??= buildRegistry(families);
  return all;
}
