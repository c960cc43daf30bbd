// The recording's records, each described once: its fields in order, named
// as native/src/record.c's structs name them (`h.` for the common header),
// with their C types. Offsets and sizes follow from C's natural alignment,
// as the engine's compiler lays the structs out. The reader, the record
// view, the writer and the emulator's tap take their offsets from here;
// test/trace/abi.test.ts holds every field to the C structs (offsetof) and
// docs/recording-format.md's tables to these.

export type CScalar = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 's64';

const SIZE: Readonly<Record<CScalar, number>> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, s64: 8 };

export interface LayoutField<N extends string> {
  /** The C member, as record.c spells it ("h.len", "in_fault", "reserved"). */
  name: N;
  type: CScalar;
  /** Elements: > 1 for an array member (`uint8_t reserved[6]`). */
  count: number;
  offset: number;
  /** Bytes: the element size times count. */
  size: number;
}

export interface RecordLayout<N extends string> {
  /** The C struct ("rec_ioctl"). */
  cStruct: string;
  fields: readonly LayoutField<N>[];
  /** Each field's offset, by name. */
  at: Readonly<Record<N, number>>;
  /** The fixed part: the struct's size, padded to its alignment. */
  size: number;
}

type FieldSpec<N extends string> = readonly [name: N, type: CScalar, count?: number];

function recordLayout<N extends string>(cStruct: string, specs: readonly FieldSpec<N>[]): RecordLayout<N> {
  let offset = 0;
  let align = 1;
  const fields: LayoutField<N>[] = [];
  const at = {} as Record<N, number>;
  for (const [name, type, count = 1] of specs) {
    const el = SIZE[type];
    offset = Math.ceil(offset / el) * el;
    align = Math.max(align, el);
    fields.push({ name, type, count, offset, size: el * count });
    at[name] = offset;
    offset += el * count;
  }
  return Object.freeze({ cStruct, fields, at: Object.freeze(at), size: Math.ceil(offset / align) * align });
}

/** The 8 bytes every record starts with (each record's `h`). */
export const RECORD_HEADER = recordLayout('rec_hdr', [['type', 'u16'], ['flags', 'u16'], ['len', 'u32']]);
const HEADER = RECORD_HEADER.fields.map((f) => [`h.${f.name}`, f.type] as const);

export const IOCTL = recordLayout('rec_ioctl', [
  ...HEADER,
  ['pid', 'u32'], ['tid', 'u32'],
  ['t_entry', 'u64'], ['t_exit', 'u64'], ['fd', 'u64'], ['request', 'u64'], ['arg', 'u64'],
  ['ret', 's64'],
  ['want_len', 'u32'], ['in_len', 'u32'], ['out_len', 'u32'], ['in_fault', 'u32'], ['out_fault', 'u32'],
  ['path_len', 'u16'],
  ['rule_kind', 'u8'], ['reserved', 'u8'],
]);

export const PROCESS = recordLayout('rec_process', [
  ...HEADER,
  ['pid', 'u32'], ['tid', 'u32'],
  ['ts', 'u64'],
  ['value', 's32'], ['other', 'u32'],
  ['text_len', 'u16'],
  ['reserved', 'u8', 6],
]);

export const END = recordLayout('rec_end', [
  ...HEADER,
  ['status', 's32'], ['dropped', 'u32'],
  ['events', 'u64'],
  ['text_len', 'u16'],
  ['reserved', 'u8', 6],
]);

/** Every record layout, for the checks against C and the docs. */
export const RECORD_LAYOUTS: readonly RecordLayout<string>[] = [RECORD_HEADER, IOCTL, PROCESS, END];
