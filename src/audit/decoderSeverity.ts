// How much the decoder's per-call findings weigh in an audit. The decoder
// rates a finding for the one call it sees; the audit judges the caller over
// the whole session, and a few per-call notes say nothing about the caller's
// use of VFIO. Those are restated here (docs/audit-rules.md lists them).

import type { Severity } from '../decode/types.js';

export const DECODER_SEVERITY: ReadonlyMap<string, { severity: Severity; why: string }> = new Map([
  [
    'resolved-by-failed-set-iommu',
    {
      severity: 'info',
      why:
        'says how the decoder named an ambiguous ioctl number (by the backend of a VFIO_SET_IOMMU that failed); the failed ' +
        'SET_IOMMU is already visible as an error return and the calls after it fail as its consequence',
    },
  ],
  [
    'payload-unavailable',
    {
      severity: 'info',
      why: 'the eBPF capture could not read a page that was mapped but not resident: a limit of the trace, not of the call',
    },
  ],
  [
    'cap-chain-truncated',
    {
      severity: 'info',
      why: 'a capability lay beyond the bytes the tracer captured (the payload cap), like capture-truncated: a limit of the trace, not of the call',
    },
  ],
]);

/** The severity a decoder finding counts with in the audit. */
export function decoderSeverity(rule: string, severity: Severity): Severity {
  return DECODER_SEVERITY.get(rule)?.severity ?? severity;
}
