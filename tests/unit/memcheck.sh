#!/bin/sh
# Run a unit test binary under valgrind's memcheck when valgrind is there:
# any error or leak fails the test.
if command -v valgrind >/dev/null 2>&1 && [ -z "${HUSK_NO_VALGRIND:-}" ]; then
	exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=all "$@"
fi
exec "$@"
