#!/usr/bin/env bats
# Where a container's cgroup goes: linux.cgroupsPath absent, absolute,
# relative to husk's own cgroup, and the checks of systemd's
# slice:prefix:name with --systemd-cgroup (the scopes systemd makes for it:
# systemd-cgroup.bats). Runs on the v1 host and in the v2 guest.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 1000
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then V2=1; else V2=; fi
	CREATED_DIRS=()
}

teardown() {
	teardown_common
	# parents a test made (deepest first); the containers' own are gone
	local i d
	for ((i = ${#CREATED_DIRS[@]} - 1; i >= 0; i--)); do
		for d in $(cg_roots); do rmdir "$d${CREATED_DIRS[$i]}" 2>/dev/null || true; done
	done
}

# The hierarchies a path lives in: v2's one tree, or each v1 controller.
cg_roots() {
	if [ -n "$V2" ]; then
		echo /sys/fs/cgroup
	else
		local d
		for d in /sys/fs/cgroup/*/; do
			[ -e "$d/tasks" ] && echo "${d%/}"
		done
		# a hybrid host's v2 tree
		if [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then echo /sys/fs/cgroup/unified; fi
	fi
}

# cgroup_of PID: the process's cgroup (v2 line, or the v1 memory line).
cgroup_of() {
	if [ -n "$V2" ]; then
		sed -n 's/^0:://p' "/proc/$1/cgroup"
	else
		sed -n 's/^[0-9]*:memory://p' "/proc/$1/cgroup"
	fi
}

# the container's cgroup as the host sees it, in every hierarchy
assert_in_cgroup() { # ID PATH
	local pid d
	pid=$(husk state "$1" | jq -r .pid)
	[ "$(cgroup_of "$pid")" = "$2" ]
	for d in $(cg_roots); do
		grep -qx "$pid" "$d$2/cgroup.procs"
	done
}

assert_cgroup_gone() { # PATH
	local d
	for d in $(cg_roots); do
		if [ -e "$d$1" ]; then
			echo "$d$1 left behind" >&2
			return 1
		fi
	done
}

@test "without cgroupsPath the cgroup is /<id>" {
	local id
	id=$(ctr_id dflt)
	husk_nowait create --bundle "$BUNDLE" "$id"
	assert_in_cgroup "$id" "/$id"
	husk delete --force "$id"
	assert_cgroup_gone "/$id"
}

@test "an absolute cgroupsPath is used as it is, in every hierarchy" {
	local id parent
	id=$(ctr_id abs)
	parent=/husk-test-${TEST_TMP##*.}
	CREATED_DIRS+=("$parent")
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$parent/ctr\""
	husk_nowait create --bundle "$BUNDLE" "$id"
	assert_in_cgroup "$id" "$parent/ctr"
	husk delete --force "$id"
	assert_cgroup_gone "$parent/ctr"
}

@test "a relative cgroupsPath is under husk's own cgroup" {
	local id own d
	id=$(ctr_id rel)
	own=/husk-own-${TEST_TMP##*.}
	CREATED_DIRS+=("$own")
	for d in $(cg_roots); do
		mkdir -p "$d$own"
		# a new v1 cpuset takes no task until it has cpus and mems
		if [ -z "$V2" ] && [ -e "$d$own/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d$own/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d$own/cpuset.mems"
		fi
	done
	update_config "$BUNDLE" '.linux.cgroupsPath = "sub/ctr"'
	CREATED_DIRS+=("$own/sub")
	# husk runs from a shell moved into $own (every hierarchy)
	(
		for d in $(cg_roots); do echo "$BASHPID" >"$d$own/cgroup.procs"; done
		husk_nowait create --bundle "$BUNDLE" "$id"
	)
	assert_in_cgroup "$id" "$own/sub/ctr"
	husk delete --force "$id"
	assert_cgroup_gone "$own/sub/ctr"
}

@test "cgroupsPath must not climb with .." {
	local id p
	id=$(ctr_id dots)
	for p in /a/../../b /a/.. a/../b ../x /x/..; do
		update_config "$BUNDLE" ".linux.cgroupsPath = \"$p\""
		run husk create --bundle "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.cgroupsPath: \\\"$p\\\" must not contain a \\\"..\\\" component"* ]]
		assert_nothing_left "$id"
	done
}

@test "a cgroupsPath that normalises to the root is refused at create, nothing left" {
	local id p
	id=$(ctr_id root)
	for p in /. // /./ ./ . /// /.//./; do
		update_config "$BUNDLE" ".linux.cgroupsPath = \"$p\""
		run husk create --bundle "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.cgroupsPath: \\\"$p\\\" is the root cgroup"* ]]
		assert_nothing_left "$id"
		[ ! -e "$HUSK_ROOT/$id" ]
	done
}

@test "a cgroupsPath with // and . components is used normalised" {
	local id parent
	id=$(ctr_id norm)
	parent=/husk-norm-${TEST_TMP##*.}
	CREATED_DIRS+=("$parent")
	update_config "$BUNDLE" ".linux.cgroupsPath = \"/$parent//./ctr/\""
	husk_nowait create --bundle "$BUNDLE" "$id"
	assert_in_cgroup "$id" "$parent/ctr"
	[ "$(husk state "$id" | jq -r .pid)" -gt 0 ]
	husk delete --force "$id"
	assert_cgroup_gone "$parent/ctr"
	assert_cgroup_gone "$parent"
}

@test "a cgroupsPath over the length limit fails naming linux.cgroupsPath" {
	local id long
	id=$(ctr_id long)
	long=$(printf '/%0200d' $(seq 1 25))
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$long\""
	run husk create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.cgroupsPath: "*"is too long"* ]]
	[[ "$output" != *cpuset* ]]
	assert_nothing_left "$id"
	# one component over NAME_MAX
	update_config "$BUNDLE" ".linux.cgroupsPath = \"/$(printf '%0300d' 1)\""
	run husk create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.cgroupsPath: a component of"*"is longer than 255 bytes"* ]]
	assert_nothing_left "$id"
}

@test "--systemd-cgroup: a path not of the form slice:prefix:name is refused, nothing left" {
	local id
	id=$(ctr_id sdbad)
	update_config "$BUNDLE" '.linux.cgroupsPath = "/not/systemd"'
	run "$HUSK_BIN" --root "$HUSK_ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.cgroupsPath: \"/not/systemd\" is not slice:prefix:name (--systemd-cgroup)'* ]]
	assert_nothing_left "$id"
	update_config "$BUNDLE" '.linux.cgroupsPath = "machine:pfx:name"'
	run "$HUSK_BIN" --root "$HUSK_ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'\"machine\" is not a slice name'* ]]
	assert_nothing_left "$id"
}

@test "--systemd-cgroup: a slice name whose levels make a path of ~15 KB fails naming linux.cgroupsPath" {
	local id slice
	id=$(ctr_id sdlong)
	# under 256 bytes, but each dash opens a level: the path is ~15 KB
	slice=$(printf 'a-%.0s' $(seq 1 120))b.slice
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$slice:pfx:name\""
	run "$HUSK_BIN" --root "$HUSK_ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$id"
	echo "$status $output"
	[ "$status" -ne 0 ]
	[ "$status" -lt 128 ]
	[[ "$output" == *"linux.cgroupsPath: "*"too long"* ]]
	assert_nothing_left "$id"
}
