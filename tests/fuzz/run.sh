#!/bin/sh
# Run each libFuzzer harness for FUZZ_SECONDS (default 60), FUZZ_JOBS
# (default 2) at a time, from the seed corpus in the tree plus what earlier
# runs found (kept in the build tree). Prints TAP, also written to
# tests/fuzz/build/fuzz.log for contrib/test-summary.sh; each harness's own
# output is tests/fuzz/build/NAME.out, a crashing input
# tests/fuzz/build/artifacts/NAME-crash-*. Exit 1 on any crash, leak,
# sanitizer report, broken property or timeout.
# usage: run.sh SRCDIR BUILDDIR [HARNESS...]
src=$1 build=$2
shift 2
out=$build/tests/fuzz/build
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
harnesses=${*:-"fuzz-config fuzz-image-spec fuzz-runtime-docs fuzz-parsers fuzz-seccomp"}
# Leak detection is ASan's default with libFuzzer; say it, whatever the
# caller's environment holds (the sanitizer build sets its own options).
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

run_one() {
	h=$1
	mkdir -p "$out/corpus/$h" "$out/artifacts"
	"$out/$h" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
		-dict="$src/tests/fuzz/json.dict" -artifact_prefix="$out/artifacts/$h-" \
		"$out/corpus/$h" "$src/tests/fuzz/corpus/$h" >"$out/$h.out" 2>&1
	echo $? >"$out/$h.rc"
}

n=0 pids=
for h in $harnesses; do
	[ -x "$out/$h" ] || { echo "$out/$h is not built (make fuzz-build)" >&2; exit 1; }
	run_one "$h" &
	pids="$pids $!"
	n=$((n + 1))
	if [ $((n % jobs)) -eq 0 ]; then
		wait $pids
		pids=
	fi
done
wait $pids

i=0 failed=0
{
	set -- $harnesses
	echo "1..$#"
	for h in $harnesses; do
		i=$((i + 1))
		rc=$(cat "$out/$h.rc" 2>/dev/null || echo 1)
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$h.out" | tail -n 1)
		corpus=$(ls "$out/corpus/$h" | wc -l)
		if [ "$rc" = 0 ] && ! grep -aq 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer\|runtime error:\|fuzz: property failed' "$out/$h.out"; then
			echo "ok $i - $h: ${runs:-?} runs in ${secs}s, $corpus inputs found"
		else
			echo "not ok $i - $h: exit $rc after ${runs:-?} runs; see $out/$h.out"
			grep -a -A30 'ERROR: \|runtime error:\|fuzz: property failed\|Test unit written' "$out/$h.out" | head -n 60 | sed 's/^/# /'
		fi
	done
} | tee "$out/fuzz.log"
! grep -q '^not ok' "$out/fuzz.log"
