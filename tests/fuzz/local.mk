# make fuzz: build the libFuzzer harnesses with clang (tests/fuzz/fuzz.mk,
# whatever CC configure chose) and run each for FUZZ_SECONDS (default 60),
# two at a time (FUZZ_JOBS); fails on any crash, leak, sanitizer report or
# broken property. Outputs under tests/fuzz/build in the build tree.
FUZZ_SECONDS = 60
FUZZ_JOBS = 2
CLANG = clang
FUZZ_MAKE = $(MAKE) -f $(abs_top_srcdir)/tests/fuzz/fuzz.mk CLANG='$(CLANG)' \
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	YAJL_CFLAGS='$(YAJL_CFLAGS)' YAJL_LIBS='$(YAJL_LIBS)' \
	LIBCAP_CFLAGS='$(LIBCAP_CFLAGS)' LIBCAP_LIBS='$(LIBCAP_LIBS)' \
	SECCOMP_CFLAGS='$(SECCOMP_CFLAGS)' SECCOMP_LIBS='$(SECCOMP_LIBS)'

fuzz-build: config.h
	@+$(FUZZ_MAKE) -s

fuzz: fuzz-build
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_JOBS='$(FUZZ_JOBS)' \
		$(SHELL) $(srcdir)/tests/fuzz/run.sh '$(abs_top_srcdir)' '$(abs_top_builddir)'

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/build

.PHONY: fuzz fuzz-build clean-fuzz
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/fuzz.mk tests/fuzz/run.sh tests/fuzz/fuzz.h \
	tests/fuzz/expose.h tests/fuzz/expose-mounts.c tests/fuzz/expose-namespaces.c \
	tests/fuzz/fuzz-config.c tests/fuzz/fuzz-image-spec.c tests/fuzz/fuzz-runtime-docs.c \
	tests/fuzz/fuzz-parsers.c tests/fuzz/fuzz-seccomp.c tests/fuzz/json.dict tests/fuzz/corpus
