// The recording format's numbers (docs/recording-format.md): magic, version,
// record types, fixed-part lengths and the longest record of each type.
// Separate from the parser because the writer, the tap and the tests need the
// same numbers without the parsing.

import { MAX_PAYLOAD_CAP } from './events.js';
import { END, IOCTL, PROCESS } from './layout.js';

export const MAGIC = 'VFTRACE1';
export const FORMAT_VERSION = 1;
export const HEADER_FIXED_LEN = 40;
/** The records' fixed parts (layout.ts). */
export const IOCTL_FIXED_LEN = IOCTL.size;
export const PROCESS_FIXED_LEN = PROCESS.size;
export const END_FIXED_LEN = END.size;
export const RECORD_IOCTL = 1;
export const RECORD_PROCESS = 2;
export const RECORD_END = 3;
/** An IOCTL record whose call had not returned yet; laid out as an IOCTL record. */
export const RECORD_PENDING = 4;

const PATH_LEN_MAX = 0xffff;
const TEXT_LEN_MAX = 0xffff;
const round8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The longest IOCTL (or PENDING) record the format allows: a 64 KiB path and both payloads at the capture cap. */
export const MAX_IOCTL_RECORD_LEN = round8(IOCTL_FIXED_LEN + PATH_LEN_MAX + 2 * MAX_PAYLOAD_CAP);
/** Upper bound on any record's length (the longest type's); anything larger is corruption. */
export const MAX_RECORD_LEN = MAX_IOCTL_RECORD_LEN;

/** The longest record of each known type: a length beyond it is refused before the record's bytes arrive. */
export const MAX_LEN_BY_TYPE: Record<number, { name: string; max: number }> = {
  [RECORD_IOCTL]: { name: 'IOCTL', max: MAX_IOCTL_RECORD_LEN },
  [RECORD_PROCESS]: { name: 'PROCESS', max: round8(PROCESS_FIXED_LEN + TEXT_LEN_MAX) },
  [RECORD_END]: { name: 'END', max: round8(END_FIXED_LEN + TEXT_LEN_MAX) },
  [RECORD_PENDING]: { name: 'PENDING', max: MAX_IOCTL_RECORD_LEN },
};
