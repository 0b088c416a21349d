#!/bin/sh
# The sanitizer CI step: build husk with --enable-sanitizers (ASan + UBSan)
# out of tree in build-san/ (a VPATH build of the tree's distdir: automake
# refuses a VPATH build of a source dir that is configured in place, as
# check.sh's main build is), run the unit tests there, then a fast subset
# of the bats suites against the sanitized husk, with the main build's
# test tools (static, so never sanitized). Results land in tests/san/*.log,
# where contrib/test-summary.sh counts them. Run from a configured, built
# tree (make; make check builds the tools, or see below).
# HUSK_SAN_SUITES: the bats suites (default: lifecycle exec mounts cgroups).
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
suites=${HUSK_SAN_SUITES:-"lifecycle exec mounts cgroups"}
logs=$top/tests/san
rm -f "$logs"/*.log

# the main build's bats helpers (oci-roundtrip, the static tools)
make -s tests/unit/oci-roundtrip $(grep -o 'tests/tools/[a-z-]*' tests/local.mk | sort -u) \
	>/dev/null || { echo "not ok 1 - the main build's test tools do not build" >"$logs/build.log"; exit 1; }

rm -rf build-san
mkdir -p build-san/build
{
	make -s distdir distdir=build-san/src &&
	cd build-san/build &&
	../src/configure -q --enable-werror --enable-sanitizers &&
	make -s -j"$(nproc)"
} >"$logs/build.out" 2>&1
rc=$?
cd "$top" || exit 1
if [ $rc != 0 ]; then
	{ echo "1..1"; echo "not ok 1 - the sanitizer build fails"; sed 's/^/# /' "$logs/build.out" | tail -n 40; } \
		>"$logs/build.log"
	cat "$logs/build.log"
	exit 1
fi
echo "1..1" >"$logs/build.log"
echo "ok 1 - husk builds with --enable-sanitizers" >>"$logs/build.log"

# ASan options for everything sanitized below:
# - detect_leaks=1: husk's own leaks fail the tests (its processes that end
#   in execve or _exit, the container init and exec's helpers, are never
#   leak-checked: LeakSanitizer runs at exit());
# - abort_on_error=0, exitcode=66: a report ends husk with a code no test
#   expects, and the report is in the bats output;
# - log_path: every report goes to a file per process, which this step
#   checks, so a report fails it even when the test discards the output.
#   The container init runs this sanitized code too (clone3 into its new
#   namespaces, no exec in between) and works as is; after pivot_root it
#   cannot reach this path: ASan then says so on its stderr and exits
#   66, which the test sees;
# - allow_user_segv_handler=1: husk's own handlers stay in place.
# UBSan: halt on the first report (the build has -fno-sanitize-recover).
san_logs=$top/build-san/reports
mkdir -p "$san_logs"
ASAN_OPTIONS="detect_leaks=1:exitcode=66:abort_on_error=0:allow_user_segv_handler=1:log_path=$san_logs/asan"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san_logs/ubsan"
export ASAN_OPTIONS UBSAN_OPTIONS

# the unit tests (natively: tests/unit/memcheck.sh skips valgrind for an
# ASan binary)
make -s -C build-san/build check-unit >/dev/null 2>&1
for l in build-san/build/tests/unit/*.log; do
	[ -f "$l" ] && cp "$l" "$logs/unit-$(basename "$l")"
done

# the bats subset against the sanitized husk
filter=
for s in $suites; do filter="$filter $top/tests/bats/$s.bats"; done
HUSK_BUILDDIR=$top HUSK_BIN=$top/build-san/build/husk HUSK_BATS_FILTER=${filter# } \
	tests/bats/run.sh >"$logs/bats.log" 2>&1

# every sanitizer report is a failure, whoever printed it
{
	echo "1..1"
	if ls "$san_logs"/* >/dev/null 2>&1; then
		echo "not ok 1 - sanitizer reports from the tests above:"
		for f in "$san_logs"/*; do
			echo "# == $f"
			sed 's/^/# /' "$f" | head -n 60
		done
	else
		echo "ok 1 - no sanitizer report from any husk process"
	fi
} >"$logs/reports.log"
! grep -q '^not ok\|^FAIL\|^# FAIL:  *[1-9]' "$logs"/*.log
