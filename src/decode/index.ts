// Public decode API: what the renderers, the model/audit, the TUI and the
// tracer glue use.

export { createDecoder, backendOfIommuType, type Decoder, type DecoderOptions } from './decoder.js';
export { captureRules } from './captureRules.js';
export { buildRegistry, type Registry } from './registry.js';
export { encodeIo, decodeIo, encodingFor, isPowerpc, AUDIT_ARCH, SUPPORTED_ARCHES } from './encoding.js';
export { errnoName, errnoNumber, errnoFlavor, type ErrnoFlavor } from './errno.js';
export { kindFromPath } from './fdtable.js';
export { findField, fieldValue } from './tree.js';
export { decodeValues } from './values.js';
export type { StructType, Field, Type, Display, Vals, FieldNames, ValuesOf } from './dsl.js';
export type { IoctlDesc, Family, Backend, ArgDesc, RetFn, RetMeaning, CheckCtx } from './ioctlDesc.js';
export type * from './types.js';
