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

# Every blkio list holds {major, minor, op, value} entries, runc's shape.
assert_blkio_shape() {
	echo "$1" | jq -e '.data.blkio | type == "object"'
	echo "$1" | jq -e '[.data.blkio | to_entries[] | .key] - ["ioServiceBytesRecursive",
		"ioServicedRecursive", "ioQueueRecursive", "ioServiceTimeRecursive",
		"ioWaitTimeRecursive", "ioMergedRecursive", "ioTimeRecursive",
		"sectorsRecursive"] == []'
	echo "$1" | jq -e '[.data.blkio[][] | select((.major | type) != "number" or
		(.minor // 0 | type) != "number" or (.value // 0 | type) != "number" or
		((.op // "Read") | IN("Read", "Write", "Sync", "Async", "Discard", "Total") | not))]
		== []'
}

@test "events --stats reports blkio in runc's shape" {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw io /sys/fs/cgroup/cgroup.controllers || skip "no io controller on this host"
	else
		[ -d /sys/fs/cgroup/blkio ] || skip "no v1 blkio hierarchy on this host"
	fi
	run husk events --stats "$ID"
	[ "$status" -eq 0 ]
	assert_blkio_shape "$output"
}

@test "events --stats counts the container's direct writes in blkio" {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw io /sys/fs/cgroup/cgroup.controllers || skip "no io controller on this host"
	else
		[ -d /sys/fs/cgroup/blkio ] || skip "no v1 blkio hierarchy on this host"
	fi
	local dev major minor id
	dev=$(stat -c '%Hd:%Ld' "$BUNDLE/rootfs")
	major=${dev%:*} minor=${dev#*:}
	[ -e "/sys/dev/block/$dev" ] || skip "the bundle's filesystem is on no block device ($dev)"
	# a second container whose rootfs takes writes; v1 counts I/O only on
	# a queue with throttling in use, so it gets a (generous) write limit
	id=$(ctr_id evio)
	update_config "$BUNDLE" ".root.readonly = false | .linux.resources.blockIO =
		{\"throttleWriteBpsDevice\": [{\"major\": $major, \"minor\": $minor,
		\"rate\": 10000000000}]}"
	set_args "$BUNDLE" sleep 1000
	husk run -d -b "$BUNDLE" "$id"
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qx "$dev rbps=max wbps=10000000000 riops=max wiops=max" "/sys/fs/cgroup/$id/io.max"
	else
		[ "$(cat "/sys/fs/cgroup/blkio/$id/blkio.throttle.write_bps_device")" = "$dev 10000000000" ]
	fi
	run husk exec "$id" dd if=/dev/zero of=/direct bs=4096 count=256 oflag=direct
	rm -f "$BUNDLE/rootfs/direct"
	[ "$status" -eq 0 ] || skip "no O_DIRECT on the bundle's filesystem: $output"
	run husk events --stats "$id"
	[ "$status" -eq 0 ]
	assert_blkio_shape "$output"
	written=$(echo "$output" | jq --argjson ma "$major" --argjson mi "$minor" \
		'[.data.blkio.ioServiceBytesRecursive[] | select(.major == $ma and (.minor // 0) == $mi and
		.op == "Write") | .value] | add // 0')
	echo "written=$written"
	[ "$written" -ge 1048576 ]
	ios=$(echo "$output" | jq --argjson ma "$major" --argjson mi "$minor" \
		'[.data.blkio.ioServicedRecursive[] | select(.major == $ma and (.minor // 0) == $mi and
		.op == "Write") | .value] | add // 0')
	[ "$ios" -ge 1 ]
}

@test "events --stats reports hugetlb per page size" {
	local sizes want
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers || skip "no hugetlb controller on this host"
	else
		[ -d /sys/fs/cgroup/hugetlb ] ||
			skip "no v1 hugetlb hierarchy (this host keeps hugetlb in its v2 tree)"
	fi
	# the page sizes the kernel has, as the cgroup files name them (2048kB -> 2MB)
	want=$(for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
		kb=${d##*-}; kb=${kb%kB}
		if [ "$kb" -ge 1048576 ]; then echo "$((kb / 1048576))GB";
		elif [ "$kb" -ge 1024 ]; then echo "$((kb / 1024))MB"; else echo "${kb}KB"; fi
	done | sort | tr '\n' ' ')
	[ -n "$want" ] || skip "the kernel has no huge page sizes"
	run husk events --stats "$ID"
	[ "$status" -eq 0 ]
	sizes=$(echo "$output" | jq -r '.data.hugetlb | keys[]' | sort | tr '\n' ' ')
	[ "$sizes" = "$want" ]
	# the container uses none: no usage, no failures
	echo "$output" | jq -e '[.data.hugetlb[] | select((.usage // 0) != 0 or .failcnt != 0)] == []'
}
