# The unit tests alone, for the sanitizer build's CI step (tests/san/run.sh):
# the static test tools of make check cannot be built with ASan.
check-unit:
	@+$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(filter tests/unit/%,$(TESTS))' \
		check_PROGRAMS='$(filter tests/unit/%,$(check_PROGRAMS))'
.PHONY: check-unit
EXTRA_DIST += tests/san/run.sh
