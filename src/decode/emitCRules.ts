// The capture-rule table of the standalone recorder (native/recorder/), as C
// source. It is generated at build time from captureRules(arch), so the C
// binary stops on and captures exactly what the Node tracer would; nothing in
// native/ is written by hand from the decoders.

import { RuleKind } from '../trace/events.js';
import type { CaptureRule } from '../trace/captureRule.js';
import { captureRules } from './captureRules.js';
import type { Registry } from './registry.js';
import { AUDIT_ARCH, SUPPORTED_ARCHES, VFIO_TYPE } from './encoding.js';

const KIND_NAME: Record<RuleKind, string> = {
  [RuleKind.None]: 'VFT_RULE_NONE',
  [RuleKind.Integer]: 'VFT_RULE_INTEGER',
  [RuleKind.Fixed]: 'VFT_RULE_FIXED',
  [RuleKind.Sized]: 'VFT_RULE_SIZED',
  [RuleKind.CString]: 'VFT_RULE_CSTRING',
};

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}u`;

export interface EmitOptions {
  /** Header TLV "producer" the recorder writes, e.g. "vfiotrace-record 0.1.0". */
  producer: string;
  /** The descriptions the table comes from (captureRules(arch, registry)). */
  registry: Registry;
  /** Instead of the descriptions' table: tests pass their own. */
  rules?: CaptureRule[];
}

/** A C string literal holding `s` (printable ASCII only, else escaped). */
function cString(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * C source defining the symbols declared in native/recorder/rules.h for one
 * architecture. A static assert ties the table to the ABI it is compiled
 * for: ppc request numbers in an x86 binary would never match.
 */
export function emitCRules(arch: string, opts: EmitOptions): string {
  if (!(SUPPORTED_ARCHES as readonly string[]).includes(arch)) {
    throw new Error(`unsupported architecture '${arch}' (one of ${SUPPORTED_ARCHES.join(', ')})`);
  }
  const auditArch = AUDIT_ARCH[arch];
  if (auditArch === undefined) throw new Error(`no AUDIT_ARCH value for '${arch}'`);
  const rules = opts.rules ?? captureRules(arch, opts.registry);
  const rows = rules.map(
    (r) => `\t{${hex(r.request)}, ${KIND_NAME[r.kind]}, ${r.size >>> 0}u, ${r.minsz >>> 0}u, ${r.cap >>> 0}u},`,
  );
  return [
    `/* Generated from captureRules(${JSON.stringify(arch)}) by scripts/gen-c-rules.mjs. Do not edit. */`,
    '#include "rules.h" /* native/recorder/ */',
    '#include "arch.h"  /* native/src/ */',
    '',
    `_Static_assert(VFT_AUDIT_ARCH == ${hex(auditArch)}, "capture rules generated for ${arch}, compiled for another ABI");`,
    '',
    `const char vfr_arch[] = ${cString(arch)};`,
    `const char vfr_producer[] = ${cString(opts.producer)};`,
    `const int vfr_ioctl_type = ${hex(VFIO_TYPE).slice(0, -1)};`,
    `const unsigned vfr_nrules = ${rules.length}u;`,
    `const struct vft_rule vfr_rules[${Math.max(rules.length, 1)}] = {`,
    ...(rows.length > 0 ? rows : ['\t{0u, VFT_RULE_NONE, 0u, 0u, 0u},']),
    '};',
    '',
  ].join('\n');
}
