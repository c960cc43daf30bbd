// Random ioctl calls on every struct ioctl, and the golden recordings, for the
// property tests that compare two ways of reading the same bytes (lazy trees,
// direct text, direct field reads).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { registry } from '../../decoders/index.js';
import type { IoctlRecord, RecordingHeader, TraceRecord } from '../../src/trace/events.js';
import { parseRecording } from '../../src/trace/reader.js';
import { PATH, record } from '../decode/helpers.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden');

export const ARCHS = ['x86_64', 'ppc64le', 'ppc64'] as const;

const nrs = [...new Set(registry().ioctls.filter((d) => d.arg.kind === 'struct').map((d) => d.nr))];
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd];

export interface RandomCall {
  nr: number;
  path: string;
  entry: Uint8Array;
  argsz: number;
  flips: { at: number; v: number }[];
  /** Capture the reply only up to here (a short read). */
  cut: number | undefined;
  ret: number;
  flags: number;
}

export interface CallChoices {
  /** Fewest entry bytes (4 keeps argsz always there). */
  minEntry?: number;
  rets?: number[];
  flags?: number[];
  /** Whether some replies are captured short. */
  cuts?: boolean;
}

/** A struct ioctl with random bytes on a random VFIO/iommufd path. */
export function randomCall(o: CallChoices = {}): fc.Arbitrary<RandomCall> {
  return fc.record({
    nr: fc.constantFrom(...nrs),
    path: fc.constantFrom(...PATHS),
    entry: fc.uint8Array({ minLength: o.minEntry ?? 0, maxLength: 200 }),
    argsz: fc.integer({ min: 0, max: 220 }),
    flips: fc.array(fc.record({ at: fc.nat(220), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
    cut: o.cuts === true ? fc.option(fc.nat(200), { nil: undefined }) : fc.constant(undefined),
    ret: fc.constantFrom(...(o.rets ?? [0, 1, -22, -25, -14])),
    flags: fc.constantFrom(...(o.flags ?? [0])),
  });
}

/** The record of one random call: argsz written at the front, the kernel's reply the same bytes with a few changed (so `changed` varies). */
export function randomRecord(arch: string, c: RandomCall): IoctlRecord {
  const entry = c.entry.slice();
  if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, c.argsz, arch !== 'ppc64');
  let exit = entry.slice();
  for (const f of c.flips) if (f.at < exit.length) exit[f.at] = f.v;
  if (c.cut !== undefined) exit = exit.subarray(0, c.cut);
  return record(arch, { nr: c.nr, path: c.path, entry, exit, ret: c.ret, flags: c.flags });
}

/** The golden spapr-eeh recording of each arch (caps chains, flex arrays, EEH). */
export function goldenRecordings(): { arch: string; header: RecordingHeader; records: TraceRecord[] }[] {
  return ARCHS.map((arch) => {
    const { header, records } = parseRecording(new Uint8Array(readFileSync(path.join(GOLDEN, `spapr-eeh.${arch}.vft`))));
    return { arch, header, records };
  });
}
