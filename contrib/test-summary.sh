#!/bin/sh
# Print the logs of failed tests and one closing line "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0 skipped=0
for log in $(find tests -name '*.log' ! -name 'test-suite.log'); do
	if grep -q '^\(ok\|not ok\) ' "$log"; then
		p=$(grep -c '^ok ' "$log" || true)
		s=$(grep -c '^ok .* # skip' "$log" || true)
		f=$(grep -c '^not ok ' "$log" || true)
		# a run cut short (a crash, a VM timeout) reports fewer tests than its plans
		planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
		if [ "$planned" -gt $((p + f)) ]; then
			echo "== $log: $((planned - p - f)) planned tests did not report"
			f=$((planned - p))
		fi
	else
		line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		s=0
		[ -n "$p" ] || { p=0; f=1; echo "== $log: no result line"; }
	fi
	passed=$((passed + p - s)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -gt 0 ] || grep -q '^FAIL\|^# FAIL:  *[1-9]' "$log"; then
		echo "== $log"
		tail -n 200 "$log"
	fi
done
grep -h '^ok .* # skip' $(find tests -name '*.log') 2>/dev/null | sed 's/^/skipped: /' || true
echo "check: $passed passed, $failed failed, $skipped skipped"
