// Capture rules: the only thing native/ learns about ioctls. They are derived
// from decoders/ (never written by hand) and handed to the tracer at start.

import { RuleKind } from './events.js';

export interface CaptureRule {
  /** The full request number as the traced ABI encodes it. */
  request: number;
  kind: RuleKind;
  /** Fixed: bytes to read. Sized: unused (the first u32 gives the size). */
  size: number;
  /** Sized: bytes to read even when the first u32 is smaller (the kernel's minsz). */
  minsz: number;
  /** Upper bound on bytes read for this request (still limited by the global -s cap). */
  cap: number;
}
