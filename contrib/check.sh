#!/bin/sh
# Build husk and run every test: the C unit tests (under valgrind), the bats
# suites, the cgroup v2 suites in a QEMU guest (make check-vm) and the
# tarball's build. Installs what it needs with apt-get. Run as root.
set -e
cd "$(dirname "$0")/.."
contrib/deps.sh test
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror -q
make -s -j"$(nproc)"
status=0
make -s check -j1 || status=$?
# the fuzzers, 60 s each (TAP in tests/fuzz/build/fuzz.log), and the ASan +
# UBSan build's unit tests and bats subset (tests/san/*.log; build-san/)
if [ "${HUSK_CHECK_FUZZ:-1}" != 0 ]; then
	make -s fuzz FUZZ_SECONDS="${HUSK_FUZZ_SECONDS:-60}" >/dev/null 2>&1 || { echo "make fuzz failed"; status=1; }
fi
if [ "${HUSK_CHECK_SAN:-1}" != 0 ]; then
	tests/san/run.sh >/dev/null 2>&1 || { echo "the sanitizer build's tests failed"; status=1; }
fi
# its TAP goes to tests/vm/*.log, which the summary counts
if [ "${HUSK_CHECK_VM:-1}" != 0 ]; then
	make -s check-vm >/dev/null || { echo "make check-vm failed"; status=1; }
fi
# the Debian packages: built, linted, installed, smoke-tested, removed
if [ "${HUSK_CHECK_DEB:-1}" != 0 ]; then
	contrib/deb-check.sh >tests/deb-check.log 2>&1 || { echo "contrib/deb-check.sh failed"; status=1; }
fi
# the scale benchmark end to end at a small size (a smoke run: nothing it
# measures is checked, and it must leave nothing behind)
if [ "${HUSK_CHECK_BENCH:-1}" != 0 ]; then
	out=$(mktemp -d)
	# (the closing line is what contrib/test-summary.sh counts)
	if SCALE_MAX=10 REPS=1 SCALE_OUT="$out" bench/scale.sh >tests/bench-scale.log 2>&1; then
		echo "bench/scale.sh smoke run: 1 passed, 0 failed" >>tests/bench-scale.log
	else
		echo "bench/scale.sh smoke run: 0 passed, 1 failed" >>tests/bench-scale.log
		echo "bench/scale.sh failed (tests/bench-scale.log)"
		status=1
	fi
	rm -rf "$out"
fi
contrib/test-summary.sh
# the tarball must build and pass its unit tests too
if [ -n "${HUSK_DISTCHECK:-1}" ] && [ "${HUSK_DISTCHECK:-1}" != 0 ]; then
	make -s distcheck TESTS=tests/unit/test-oci-spec >/dev/null || { echo "make distcheck failed"; status=1; }
fi
exit $status
