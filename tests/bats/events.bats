#!/usr/bin/env bats
# husk events: statistics from the container's cgroup as JSON lines.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sh -c 'sleep 1000 & sleep 1000'
	ID=$(ctr_id ev)
	husk_nowait run -d -b "$BUNDLE" "$ID"
	wait_for_status "$ID" running
}

teardown() {
	teardown_common
}

@test "events --stats prints one stats object with cpu, memory and pids" {
	run husk events --stats "$ID"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e --arg id "$ID" '.type == "stats" and .id == $id'
	# the same count as the container's processes
	n=$(husk ps --format json "$ID" | jq length)
	[ "$n" -ge 2 ]
	[ "$(echo "$output" | jq .data.pids.current)" -eq "$n" ]
	[ "$(echo "$output" | jq '.data.memory.usage.usage')" -gt 0 ]
	[ "$(echo "$output" | jq '.data.cpu.usage.total')" -gt 0 ]
}

@test "events streams every --interval and ends when the container stops" {
	( sleep 1.2; "$HUSK_BIN" --root "$HUSK_ROOT" kill "$ID" KILL ) &
	run timeout 10 "$HUSK_BIN" --root "$HUSK_ROOT" events --interval 300ms "$ID"
	wait
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 3 ]
	for l in "${lines[@]}"; do echo "$l" | jq -e '.type == "stats"'; done
}

@test "events of a missing or stopped container fails with the engine words" {
	run husk events --stats nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	husk kill "$ID" KILL
	wait_for_status "$ID" stopped
	run husk events --stats "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run husk events --interval soon "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"soon" is not a duration'* ]]
}
