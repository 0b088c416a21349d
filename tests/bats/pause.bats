#!/usr/bin/env bats
# pause/resume (the freezer) and ps (the cgroup's processes).

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	mkdir -p "$TEST_TMP/out"
	update_config "$BUNDLE" '.mounts += [{"destination": "/out", "type": "bind", "source": "'"$TEST_TMP/out"'", "options": ["rbind"]}]'
	set_args "$BUNDLE" sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/out/count; sleep 0.05; done'
	ID=$(ctr_id frz)
	husk_nowait run -d -b "$BUNDLE" "$ID"
	wait_for_status "$ID" running
}

teardown() {
	teardown_common
}

freezer_file() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cat "/sys/fs/cgroup/$ID/cgroup.freeze"
	else
		cat "/sys/fs/cgroup/freezer/$ID/freezer.state"
	fi
}

@test "pause freezes every process: state paused, output stops; resume restarts it" {
	sleep 0.3
	husk pause "$ID"
	[ "$(container_status "$ID")" = paused ]
	[[ "$(freezer_file)" == FROZEN || "$(freezer_file)" == 1 ]]
	n1=$(wc -l <"$TEST_TMP/out/count")
	sleep 0.5
	n2=$(wc -l <"$TEST_TMP/out/count")
	[ "$n1" -eq "$n2" ]
	husk resume "$ID"
	[ "$(container_status "$ID")" = running ]
	sleep 0.5
	n3=$(wc -l <"$TEST_TMP/out/count")
	[ "$n3" -gt "$n2" ]
}

@test "pause of a paused container and resume of a running one fail clearly" {
	run husk resume "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"it is running, not paused"* ]]
	husk pause "$ID"
	run husk pause "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"it is paused, not running"* ]]
}

@test "delete --force removes a paused container and its cgroup" {
	husk pause "$ID"
	run husk delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$ID" ]
	[ -z "$(cgroup_dirs "$ID")" ]
}

@test "ps lists the container's processes, as a table and as json" {
	pid=$(husk state "$ID" | jq -r .pid)
	run husk ps --format json "$ID"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson p "$pid" 'index($p) != null'
	[ "$(echo "$output" | jq length)" -ge 1 ]
	run husk ps "$ID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[[ "$output" == *"$pid"* ]]
	# nothing from outside the container
	[[ "$output" != *"bats"* ]]
}

@test "ps shows every process of a container with many, and only those" {
	id=$(ctr_id many)
	set_args "$BUNDLE" sh -c 'for i in $(seq 40); do sleep 1000 & done; wait'
	husk_nowait run -d -b "$BUNDLE" "$id"
	for _ in $(seq 100); do
		[ "$(husk ps --format json "$id" | jq length)" -ge 41 ] && break
		sleep 0.1
	done
	pids=$(husk ps --format json "$id" | jq -r '.[]' | sort -n)
	[ "$(echo "$pids" | wc -l)" -eq 41 ]
	run husk ps "$id" -o pid,comm
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]:1}" | awk '{print $1}' | sort -n)" = "$pids" ]
	[ "$(printf '%s\n' "${lines[@]:1}" | grep -c sleep)" -eq 40 ]
	husk delete --force "$id"
}

@test "ps of a missing container says does not exist" {
	run husk ps nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}
