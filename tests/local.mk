# make check: the C unit tests (under valgrind when it is installed) and
# the bats suites.
check_PROGRAMS += tests/unit/test-oci-spec
tests_unit_test_oci_spec_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c tests/unit/unit.h
tests_unit_test_oci_spec_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)

# the console-socket receiver terminal.bats drives husk with
check_PROGRAMS += tests/tools/recvtty
tests_tools_recvtty_SOURCES = tests/tools/recvtty.c

TESTS += tests/unit/test-oci-spec tests/bats/run.sh
TEST_EXTENSIONS = .sh
LOG_COMPILER = $(srcdir)/tests/unit/memcheck.sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	HUSK_BUILDDIR='$(abs_top_builddir)'; export HUSK_BUILDDIR; \
	HUSK_SRCDIR='$(abs_top_srcdir)'; export HUSK_SRCDIR;

EXTRA_DIST += tests/unit/memcheck.sh tests/unit/data tests/unit/malformed \
	tests/bats
