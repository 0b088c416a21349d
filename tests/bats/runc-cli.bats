#!/usr/bin/env bats
# The runc command line as scripts and engines use it: options after the
# container id, kill 0 and kill --all of a stopped container, list order,
# ps of a stopped container, exec's terminal and its exit status.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	ID=$(ctr_id cli)
}

teardown() {
	teardown_common
}

# start_sleeper: a running container ID whose process sleeps
start_sleeper() {
	set_args "$BUNDLE" sleep 1000
	husk_nowait create -b "$BUNDLE" "$ID"
	husk start "$ID"
	wait_for_status "$ID" running
}

# memory_limit: the container's memory.limit_in_bytes (v1) or memory.max
memory_limit() {
	local pid rel
	pid=$(husk state "$ID" | jq .pid)
	rel=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
	if [ -n "$rel" ]; then
		cat "/sys/fs/cgroup/memory$rel/memory.limit_in_bytes"
	else
		rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$rel/memory.max"
	fi
}

@test "options after the container id are taken, as runc's CLI takes them" {
	start_sleeper
	run husk update "$ID" --memory 64M
	[ "$status" -eq 0 ]
	[ "$(memory_limit)" = 67108864 ]
	run husk state "$ID" --help
	[ "$status" -eq 0 ]
	run husk kill "$ID" KILL --all
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	run husk delete "$ID" --force
	[ "$status" -eq 0 ]
	run husk list -q
	[ -z "$output" ]
	# an unknown option after the id is still an error naming it
	run husk delete "$ID" --bogus
	[ "$status" -ne 0 ]
	[[ "$output" == *"--bogus"* ]]
}

@test "exec's arguments after the id stay the command's, options included" {
	start_sleeper
	run husk exec "$ID" sh -c 'echo "$0 $1"' --all -t
	[ "$status" -eq 0 ]
	[ "$output" = "--all -t" ]
	run husk ps "$ID" -o pid,args
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ PID\ +COMMAND ]]
	[[ "$output" == *"sleep 1000"* ]]
}

@test "kill ID 0 checks the process: 0 while it runs, container not running after" {
	start_sleeper
	run husk kill "$ID" 0
	[ "$status" -eq 0 ]
	[ "$(container_status "$ID")" = running ]
	husk kill "$ID" KILL
	wait_for_status "$ID" stopped
	run husk kill "$ID" 0
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
}

@test "kill --all of a stopped container exits 0; without --all it says container not running" {
	set_args "$BUNDLE" true
	husk_nowait create -b "$BUNDLE" "$ID"
	husk start "$ID"
	wait_for_status "$ID" stopped
	run husk kill --all "$ID" KILL
	[ "$status" -eq 0 ]
	run husk kill "$ID" KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
}

@test "list shows containers sorted by id" {
	local ids=(zeta alpha Mid beta-2 beta-10) i
	set_args "$BUNDLE" true
	for i in "${ids[@]}"; do
		husk_nowait create -b "$BUNDLE" "$i"
	done
	run husk list -q
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' Mid alpha beta-10 beta-2 zeta)" ]
	run husk list --format json
	[ "$(jq -r '.[].id' <<<"$output" | tr '\n' ' ')" = "Mid alpha beta-10 beta-2 zeta " ]
	run husk list
	[ "$(awk 'NR > 1 { print $1 }' <<<"$output" | tr '\n' ' ')" = "Mid alpha beta-10 beta-2 zeta " ]
}

@test "ps of a stopped container prints the header and exits 0" {
	set_args "$BUNDLE" true
	husk_nowait create -b "$BUNDLE" "$ID"
	husk start "$ID"
	wait_for_status "$ID" stopped
	run husk ps "$ID"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ ^UID\ +PID ]]
	run husk ps --format json "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
}

@test "exec without --tty runs without a terminal even when process.terminal is true" {
	local recvtty=$HUSK_BUILDDIR/tests/tools/recvtty
	[ -x "$recvtty" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	update_config "$BUNDLE" '.process.terminal = true'
	set_args "$BUNDLE" sleep 1000
	"$recvtty" "$TEST_TMP/console.sock" >/dev/null 2>"$TEST_TMP/recv.err" &
	local recv=$! i
	for i in $(seq 100); do
		grep -q ready "$TEST_TMP/recv.err" 2>/dev/null && break
		sleep 0.05
	done
	husk_nowait create -b "$BUNDLE" --console-socket "$TEST_TMP/console.sock" "$ID"
	husk start "$ID"
	# the foreground output is the process's own: no terminal, no \r
	run husk exec "$ID" sh -c 'tty; echo two'
	local fg_status=$status fg_output=$output
	# detached, it needs no --console-socket
	run husk exec -d --pid-file "$TEST_TMP/pid" "$ID" sleep 5
	echo "foreground: $fg_status $fg_output; detached: $status $output"
	husk kill "$ID" KILL
	kill "$recv" 2>/dev/null || true
	wait "$recv" 2>/dev/null || true
	[ "$fg_status" -eq 0 ]
	[ "$fg_output" = "$(printf 'not a tty\ntwo')" ]
	[ "$status" -eq 0 ]
	[ -s "$TEST_TMP/pid" ]
}

@test "exec that fails before its process runs exits 255; the process's own status passes through" {
	start_sleeper
	run husk exec --pid-file /nonexistent/dir/pid "$ID" true
	[ "$status" -eq 255 ]
	[[ "$output" == *"/nonexistent/dir/pid"* ]]
	run husk exec nosuch true
	[ "$status" -eq 255 ]
	[[ "$output" == *"does not exist"* ]]
	run husk exec "$ID" sh -c 'exit 1'
	[ "$status" -eq 1 ]
	run husk exec "$ID" sh -c 'exit 255'
	[ "$status" -eq 255 ]
}
