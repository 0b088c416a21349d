#!/usr/bin/env bats
# Runs inside the tests/vm guest (make check-vm): the cgroup suites that
# run there can count on a pure cgroup v2 hierarchy with every controller
# delegated from the root, and on the husk built in the shared tree.
load ../bats/helpers

setup() {
	setup_common
}

# Kill what a test left in its cgroup, wait for it to empty, remove it.
teardown() {
	if [ -n "${CG:-}" ] && [ -d "$CG" ]; then
		echo 1 >"$CG/cgroup.kill"
		local _
		for _ in $(seq 50); do
			grep -q '^populated 0' "$CG/cgroup.events" && break
			sleep 0.1
		done
		rmdir "$CG"
	fi
	teardown_common
}

@test "vm-smoke: running in the tests/vm guest" {
	[ "${HUSK_VM:-}" = 1 ] || { echo "HUSK_VM is not set: not run by tests/vm/run"; false; }
	[ "$(hostname)" = husk-vm ]
}

@test "vm-smoke: /sys/fs/cgroup is the only hierarchy, and it is cgroup v2" {
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]
	run awk '$3 == "cgroup" { print $2 }' /proc/mounts
	[ -z "$output" ] || { echo "v1 hierarchies mounted: $output"; false; }
	run cat /proc/self/cgroup
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == 0::/* ]]
}

@test "vm-smoke: the root delegates every controller it has" {
	local controllers subtree c
	controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
	subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control)
	for c in cpu cpuset memory pids io; do
		[[ " $subtree " == *" $c "* ]] || { echo "$c not in subtree_control: $subtree"; false; }
	done
	[ "$subtree" = "$controllers" ]
}

@test "vm-smoke: a child cgroup takes limits and enforces pids.max" {
	CG=/sys/fs/cgroup/vm-smoke-$$
	mkdir "$CG"
	echo 64M >"$CG/memory.max"
	[ "$(cat "$CG/memory.max")" = 67108864 ]
	echo "50000 100000" >"$CG/cpu.max"
	[ "$(cat "$CG/cpu.max")" = "50000 100000" ]
	echo 2 >"$CG/pids.max"
	# The shell in the cgroup is one pid and its first child the second:
	# the next fork must fail.
	run sh -c 'echo $$ >"$1/cgroup.procs" && for i in 1 2 3; do sleep 30 >/dev/null 2>&1 & done' sh "$CG"
	[ "$(awk '$1 == "max" { print $2 }' "$CG/pids.events")" -ge 1 ]
}

@test "vm-smoke: the husk built in the shared tree runs in the guest" {
	run "$HUSK_BIN" features
	[ "$status" = 0 ]
	echo "$output" | jq -e '.ociVersionMax' >/dev/null
}
