/* The recorder's build-time data: generated per architecture from the
 * decoders' capture rules (scripts/gen-c-rules.mjs, src/decode/emitCRules.ts)
 * into native/build/<arch>/gen/rules.c. */
#ifndef VFR_RULES_H
#define VFR_RULES_H

#include "../include/vftrace.h"

extern const char vfr_arch[];     /* "ppc64", ... : the ABI the table encodes */
extern const char vfr_producer[]; /* header TLV 6 */
extern const int vfr_ioctl_type;  /* request type byte to stop on (';') */
extern const unsigned vfr_nrules;
extern const struct vft_rule vfr_rules[];

#endif
