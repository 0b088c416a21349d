#!/usr/bin/env bats
# Load: 200 containers created and started, 20 at a time, then killed and
# deleted 20 at a time: every command succeeds and nothing is left (state,
# cgroups, mounts, processes, zombies). Bounded: well under 2 minutes here.

load helpers

COUNT=${HUSK_LOAD_COUNT:-200}
PARALLEL=${HUSK_LOAD_PARALLEL:-20}

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" /bin/sleep 1000
	PREFIX=$(ctr_id load)
}

teardown() {
	teardown_common
}

# each ACTION: ACTION for every container id, PARALLEL at a time; a failure
# is written to $TEST_TMP/failures with its output.
each() {
	local action=$1
	mkdir -p "$TEST_TMP/logs"
	# stdio on files: a container keeps what husk create had open
	seq "$COUNT" | xargs -P "$PARALLEL" -I{} bash -c '
		id=$1-{} log=$7/{}.log
		case $2 in
		up) "$3" --root "$4" create -b "$5" "$id" </dev/null >"$log" 2>&1 3>&- &&
			"$3" --root "$4" start "$id" </dev/null >>"$log" 2>&1 3>&- ;;
		kill) "$3" --root "$4" kill "$id" KILL </dev/null >"$log" 2>&1 3>&- ;;
		delete) "$3" --root "$4" delete "$id" </dev/null >"$log" 2>&1 3>&- ;;
		esac || echo "$2 $id: $(cat "$log")" >>"$6"
	' _ "$PREFIX" "$action" "$HUSK_BIN" "$HUSK_ROOT" "$BUNDLE" "$TEST_TMP/failures" "$TEST_TMP/logs"
	if [ -s "$TEST_TMP/failures" ]; then
		head -20 "$TEST_TMP/failures" >&2
		return 1
	fi
}

@test "200 containers created and started 20 at a time, then killed and deleted: no error, nothing left" {
	each up
	[ "$(husk list -q | wc -l)" -eq "$COUNT" ]
	# each one's init (and when it started, to tell a reused pid)
	local pids=() line pid st
	while read -r pid st; do
		[ "$st" = running ] || { echo "container with pid $pid is $st" >&2; false; }
		pids+=("$pid:$(awk '{print $22}' "/proc/$pid/stat")")
	done < <(husk list --format json | jq -r '.[] | "\(.pid) \(.status)"')
	[ "${#pids[@]}" -eq "$COUNT" ]

	each kill
	# killed: each goes to stopped (delete without --force needs that)
	local id i
	for i in $(seq "$COUNT"); do
		wait_for_status "$PREFIX-$i" stopped
	done
	each delete

	[ -z "$(ls -A "$HUSK_ROOT")" ]
	[ -z "$(husk list -q)" ]
	local left
	left=$(ls -d /sys/fs/cgroup/*/"$PREFIX"-* /sys/fs/cgroup/"$PREFIX"-* 2>/dev/null || true)
	[ -z "$left" ] || { echo "cgroups left: $left" >&2; false; }
	run grep -F -- "$TEST_TMP" /proc/self/mountinfo
	[ "$status" -ne 0 ]
	# no init left, not even as a zombie (whoever adopted them reaps them;
	# give it a moment)
	for line in "${pids[@]}"; do
		pid=${line%%:*}
		for i in $(seq 50); do
			[ -e "/proc/$pid" ] && [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "${line#*:}" ] || break
			sleep 0.1
		done
		if [ -e "/proc/$pid" ] && [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "${line#*:}" ]; then
			echo "init $pid is still there: $(awk '{print $3}' "/proc/$pid/stat")" >&2
			false
		fi
	done
}
