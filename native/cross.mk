# The standalone recorder and the cross builds (docs/power.md). Included at
# the end of the Makefile; the default target stays libvftrace.so.
#
#   make recorder            build/vfiotrace-record for this host
#   make cross               engine + recorder for every ARCH below
#   make cross-ppc64         ... for one ARCH, into build/cross/ARCH/
#
# The recorder's capture rules come from the decoders: scripts/gen-c-rules.mjs
# runs captureRules(ARCH) from dist/ (so `npm run build:ts` must have run; it
# is run here if dist/ is missing) and writes build/.../gen/rules.c.

NODE ?= node
CROSS_ARCHES := x86_64 aarch64 ppc64le ppc64
CROSS_CC_x86_64 := x86_64-linux-gnu-gcc
CROSS_CC_aarch64 := aarch64-linux-gnu-gcc
CROSS_CC_ppc64le := powerpc64le-linux-gnu-gcc
CROSS_CC_ppc64 := powerpc64-linux-gnu-gcc

# The host's name in the recording's vocabulary (uname -m already uses it).
HOST_ARCH := $(shell uname -m)

XCFLAGS := -O2 -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -D_GNU_SOURCE -pthread -Ibuild/gen
ENGINE_HDRS := $(wildcard src/*.h) $(wildcard include/*.h)
REC_SRCS := $(wildcard recorder/*.c)
REC_HDRS := $(wildcard recorder/*.h)
EMIT_JS := ../dist/src/decode/emitCRules.js

$(EMIT_JS):
	cd .. && npx tsc -p tsconfig.json

# $(1): output directory under build/, $(2): C compiler, $(3): arch name
define vft_build
build/$(1)/obj/%.o: src/%.c $(ENGINE_HDRS) | build/$(1)/obj
	$(2) $(XCFLAGS) -c -o $$@ $$<

build/$(1)/obj/session.o: $(BUILD_ID_H)

build/$(1)/obj/recorder-%.o: recorder/%.c $(REC_HDRS) $(ENGINE_HDRS) | build/$(1)/obj
	$(2) $(XCFLAGS) -Isrc -Irecorder -c -o $$@ $$<

# Always regenerated; the script rewrites the file only when its text changes.
build/$(1)/gen/rules.c: $(EMIT_JS) FORCE
	$(NODE) ../scripts/gen-c-rules.mjs $(3) $$@

build/$(1)/obj/rules.o: build/$(1)/gen/rules.c recorder/rules.h src/arch.h | build/$(1)/obj
	$(2) $(XCFLAGS) -Isrc -Irecorder -c -o $$@ $$<

build/$(1)/libvftrace.so: $(SRCS:src/%.c=build/$(1)/obj/%.o)
	$(2) -shared -pthread -o $$@ $$^

build/$(1)/vfiotrace-record: $(SRCS:src/%.c=build/$(1)/obj/%.o) $(REC_SRCS:recorder/%.c=build/$(1)/obj/recorder-%.o) build/$(1)/obj/rules.o
	$(2) -static -pthread -o $$@ $$^

build/$(1)/obj:
	mkdir -p $$@
endef

$(eval $(call vft_build,host,$(CC),$(HOST_ARCH)))
$(foreach a,$(CROSS_ARCHES),$(eval $(call vft_build,cross/$(a),$(CROSS_CC_$(a)),$(a))))

recorder: build/vfiotrace-record

build/vfiotrace-record: build/host/vfiotrace-record
	cp $< $@

$(foreach a,$(CROSS_ARCHES),$(eval cross-$(a): build/cross/$(a)/libvftrace.so build/cross/$(a)/vfiotrace-record))

cross: $(CROSS_ARCHES:%=cross-%)

FORCE:

.PHONY: recorder cross $(CROSS_ARCHES:%=cross-%) FORCE
