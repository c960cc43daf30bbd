// The eager pass over a struct payload: its scalar values (by C field name,
// for checks, return meanings and `when` rules) and the findings of the walk
// (argsz below minsz, non-zero tails, reserved fields, unknown flags, a caps
// buffer too small). The trees are built later, when someone asks (event.ts).

import type { IoctlRecord } from '../trace/events.js';
import { exitLengthOf, IoctlRecordView } from '../trace/recordView.js';
import { compileStruct, newVals, type CompiledStruct, type Env } from './compile.js';
import { walkFields } from './walk.js';
import type { CapsType, StructType, Vals } from './dsl.js';
import type { IoctlDesc } from './ioctlDesc.js';
import type { StructPayload } from './payload.js';
import type { Finding } from './types.js';

/** Where a struct decode's results go (the decoder's per-call argument record). */
export interface StructDecode {
  payload: StructPayload | null;
  inVals: Vals;
  outVals: Vals | null;
}

/** Facts of one struct ioctl, computed once per description. */
export interface StructFacts {
  struct: StructType;
  cs: CompiledStruct;
  caps: CapsType | null;
}

export function structFacts(t: StructType): StructFacts {
  let caps: CapsType | null = null;
  for (const f of t.fields) if (f.type.kind === 'caps') caps = f.type;
  return { struct: t, cs: compileStruct(t), caps };
}

/** Whether the kernel copied the struct back to the caller for this outcome. */
function writesBack(d: IoctlDesc, inVals: Vals, ret: number, errno: string | null): boolean {
  const w = d.writes;
  if (w === 'never') return false;
  if (w === 'success') return ret >= 0;
  if (typeof w === 'function') return w(inVals, ret);
  return ret >= 0 || (errno !== null && w.errnos.includes(errno));
}

const EMPTY = new Uint8Array(0);

/** Decodes struct payloads of one recording (one byte order); synchronous, not re-entrant: its two walk environments are reused. */
export class StructDecoder {
  private readonly envIn: Env;
  private readonly envOut: Env;

  constructor(private readonly le: boolean) {
    this.envIn = this.newEnv();
    this.envOut = this.newEnv();
  }

  private newEnv(): Env {
    return { dv: new DataView(EMPTY.buffer), base: 0, bytes: EMPTY, le: this.le, len: 0, cmp: null, ctx: { side: 'in', ret: 0, argsz: 0, root: {} }, findings: null };
  }

  /** Points a reused environment at one side's bytes (`cmp`: the entry bytes the reply is compared with). */
  private point(env: Env, dv: DataView, base: number, bytes: Uint8Array, cmp: Uint8Array | null, findings: Finding[], side: 'in' | 'out', ret: number, argsz: number, root: Vals): Env {
    env.dv = dv;
    env.base = base;
    env.bytes = bytes;
    env.len = bytes.length;
    env.cmp = cmp;
    env.findings = findings;
    env.ctx.side = side;
    env.ctx.ret = ret;
    env.ctx.argsz = argsz;
    env.ctx.root = root;
    return env;
  }

  /** Decodes into `out` (no result object of its own: one allocation less per call). */
  decode(d: IoctlDesc, sf: StructFacts, r: IoctlRecord, ret: number, errno: string | null, incomplete: boolean, findings: Finding[], out: StructDecode): void {
    const t = sf.struct;
    const entry = r.entry;
    // A record still over its chunk is read through the chunk's view: no DataView per call (they cost more than the walk).
    const view = r instanceof IoctlRecordView && r.payloadInChunk ? r : null;
    const dvIn = view !== null ? view.dv : new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const base = view !== null ? view.payloadAt : 0;
    const hasSize = d.sizeField !== null && entry.length >= 4;
    const argsz = hasSize ? dvIn.getUint32(base, this.le) : entry.length;
    const limit = d.sizeField !== null ? Math.max(argsz, d.minsz) : t.size;
    const inVals = newVals(sf.cs);
    if (entry.length > 0) walkFields(sf.cs, this.point(this.envIn, dvIn, base, entry, null, findings, 'in', ret, argsz, inVals), 0, limit, '', null, inVals);
    if (hasSize) sizeFindings(d, t, entry, argsz, findings);

    let outVals: Vals | null = null;
    let written: Uint8Array | null = null;
    let dvWritten: DataView | null = null;
    let baseWritten = 0;
    // Most calls write nothing back: the exit bytes' view is made only for those that do.
    if (!incomplete && exitLengthOf(r) > 0 && writesBack(d, inVals, ret, errno)) {
      const ex = r.exit;
      outVals = newVals(sf.cs);
      dvWritten = view !== null ? view.dv : new DataView(ex.buffer, ex.byteOffset, ex.byteLength);
      baseWritten = view !== null ? view.payloadAt + view.entryLen : 0;
      walkFields(sf.cs, this.point(this.envOut, dvWritten, baseWritten, ex, entry, findings, 'out', ret, argsz, outVals), 0, limit, '', null, outVals);
      written = ex;
      if (sf.caps !== null) capsFinding(d, sf.caps, argsz, outVals, findings);
    }
    out.payload = { cs: sf.cs, entry, dv: dvIn, base, exit: written, dvExit: dvWritten, baseExit: baseWritten, le: this.le, ret, argsz, limit };
    out.inVals = inVals;
    out.outVals = outVals;
  }
}

/** argsz below minsz; non-zero bytes past the struct the kernel would refuse. */
function sizeFindings(d: IoctlDesc, t: StructType, entry: Uint8Array, argsz: number, findings: Finding[]): void {
  if (d.sizeField === null) return;
  if (argsz < d.minsz) {
    findings.push({ rule: 'argsz-below-minsz', severity: 'error', message: `${d.sizeField} ${argsz} is below minsz ${d.minsz} (the kernel answers EINVAL)`, field: d.sizeField });
  }
  if (d.zeroTail && argsz > t.size) {
    const end = Math.min(argsz, entry.length);
    for (let k = t.size; k < end; k++) {
      if (entry[k] !== 0) {
        findings.push({ rule: 'trailing-nonzero', severity: 'error', message: `byte ${k} beyond struct ${t.name} (${t.size} bytes) is non-zero (the kernel answers E2BIG)` });
        break;
      }
    }
  }
}

/**
 * A reply asking for a bigger buffer: VFIO leaves cap_offset 0 and copies no
 * caps; iommufd's compat layer fills what fits and links the rest. Either
 * way the caller must call again.
 */
function capsFinding(d: IoctlDesc, ct: CapsType, argsz: number, outVals: Vals, findings: Finding[]): void {
  if (d.sizeField === null) return;
  const newSz = outVals[d.sizeField] ?? argsz;
  if (newSz > argsz && ((outVals[ct.flagField] ?? 0) & ct.flagBit) !== 0) {
    findings.push({
      rule: 'caps-buffer-too-small',
      severity: 'info',
      message: `the kernel needs ${d.sizeField}=${newSz} to return its capabilities (given ${argsz}); the caller must call again with a bigger buffer`,
      field: d.sizeField,
    });
  }
}
