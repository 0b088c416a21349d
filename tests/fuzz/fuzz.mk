# The libFuzzer harnesses, built with clang whatever CC the tree uses.
# Plain GNU make, called by `make fuzz` (tests/fuzz/local.mk), which passes
# the configured tree's flags:
#   make -f SRCDIR/tests/fuzz/fuzz.mk top_srcdir=SRCDIR top_builddir=BUILDDIR \
#        YAJL_CFLAGS=... YAJL_LIBS=... (LIBCAP_, SECCOMP_ likewise)
# Everything is written under BUILDDIR/tests/fuzz/build.
CLANG ?= clang
out := $(top_builddir)/tests/fuzz/build
# The code under test, instrumented for coverage (fuzzer-no-link) and
# checked by ASan and UBSan; any UB report aborts like a crash.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS_FUZZ := -g -O1 -fno-omit-frame-pointer $(SAN) -std=gnu11 -Wall -Wno-unused-parameter \
	-Wno-unused-function -include $(top_builddir)/config.h -I$(top_srcdir) -I$(top_builddir) \
	-Ulinux -DLOCALSTATEDIR='"/var"' $(YAJL_CFLAGS) $(LIBCAP_CFLAGS) $(SECCOMP_CFLAGS)
LIBS_FUZZ := $(YAJL_LIBS) $(LIBCAP_LIBS) $(SECCOMP_LIBS) -lpthread

# The shared code and the container core: every runtime/*.c but main.c and
# the verb files (those defining a `struct verb`), so a core file added
# later is in; a harness calls what the verbs call. The linker takes from
# the archive only what a harness reaches.
lib_src := $(wildcard $(top_srcdir)/common/*.c $(top_srcdir)/oci-spec/*.c \
	$(top_srcdir)/runtime/linux/*.c) \
	$(filter-out %/main.c,$(shell grep -L 'const struct verb verb_' $(top_srcdir)/runtime/*.c))
lib_obj := $(patsubst $(top_srcdir)/%.c,$(out)/obj/%.o,$(lib_src))

HARNESSES := fuzz-config fuzz-image-spec fuzz-runtime-docs fuzz-parsers fuzz-seccomp

all: $(addprefix $(out)/,$(HARNESSES))

$(out)/obj/%.o: $(top_srcdir)/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(out)/libhusk-fuzz.a: $(lib_obj)
	@rm -f $@
	ar rcs $@ $^

$(out)/%.o: $(top_srcdir)/tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(out)/fuzz-%: $(out)/fuzz-%.o $(out)/libhusk-fuzz.a
	$(CLANG) $(SAN) -fsanitize=fuzzer $(filter %.o,$^) $(filter %.a,$^) $(LIBS_FUZZ) -o $@
# the expose-*.c objects (static functions) a harness reaches; listed
# before the archive, they stand in for the files they include
$(out)/fuzz-parsers: $(out)/expose-mounts.o $(out)/expose-namespaces.o

-include $(lib_obj:.o=.d) $(patsubst %,$(out)/%.d,$(HARNESSES) expose-mounts expose-namespaces)
.PHONY: all
