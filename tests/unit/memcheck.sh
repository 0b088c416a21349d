#!/bin/sh
# Run a unit test binary under valgrind's memcheck when valgrind is there:
# any error or leak fails the test. A sanitizer build (--enable-sanitizers)
# checks itself: ASan and valgrind cannot share a process, so it runs
# natively (HUSK_NO_VALGRIND=1 does the same for any build).
if command -v valgrind >/dev/null 2>&1 && [ -z "${HUSK_NO_VALGRIND:-}" ] &&
	! grep -q __asan_init "$1" 2>/dev/null; then
	exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=all "$@"
fi
exec "$@"
