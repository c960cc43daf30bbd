// Plain values of one struct from bytes, typed from its description: for code
// that wants numbers by field name rather than a FieldNode tree.

import type { StructType, ValuesOf } from './dsl.js';
import { compileStruct, type Env } from './compile.js';
import { walkFields } from './walk.js';

/**
 * Every fixed-layout scalar of `t` in `bytes` (flexible arrays and caps
 * excluded); nested fields as "err.type". Fields past the end are absent.
 */
export function decodeValues<S extends StructType<string>>(t: S, bytes: Uint8Array, littleEndian: boolean): ValuesOf<S> & Record<string, number> {
  const vals: Record<string, number> = {};
  const env: Env = {
    dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    base: 0,
    bytes,
    le: littleEndian,
    len: bytes.length,
    cmp: null,
    ctx: { side: 'in', ret: 0, argsz: bytes.length, root: vals },
    findings: null,
    all: true,
  };
  walkFields(compileStruct(t), env, 0, bytes.length, '', null, vals);
  return vals as ValuesOf<S> & Record<string, number>;
}
