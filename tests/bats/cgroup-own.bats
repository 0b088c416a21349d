#!/usr/bin/env bats
# husk touches only the cgroups it made: a cgroupPath read back from
# state.json is checked before anything acts on it, an existing cgroup that
# holds processes or is frozen is refused, only the directories create made
# are removed, hierarchies come from the mount table (not directory names),
# and a hybrid host's v2 tree holds the container too. Runs on the v1 host
# and in the v2 guest.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 1000
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then V2=1; else V2=; fi
	TAG=${TEST_TMP##*.}
	TAG=${TAG//[^a-zA-Z0-9]/}
	TEST_CGROUPS=()
	VICTIMS=()
}

teardown() {
	local f pid i d
	# a test that edited a state.json puts the original back first, so the
	# container can be deleted
	for f in "$TEST_TMP"/*.state-orig; do
		[ -e "$f" ] || continue
		i=$(basename "$f" .state-orig)
		cp "$f" "$HUSK_ROOT/$i/state.json"
	done
	teardown_common
	for pid in "${VICTIMS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# the cgroups a test made itself (deepest first)
	for ((i = ${#TEST_CGROUPS[@]} - 1; i >= 0; i--)); do
		for d in $(cg_roots); do
			[ -e "$d${TEST_CGROUPS[$i]}/freezer.state" ] &&
				echo THAWED >"$d${TEST_CGROUPS[$i]}/freezer.state"
			[ -e "$d${TEST_CGROUPS[$i]}/cgroup.freeze" ] &&
				echo 0 >"$d${TEST_CGROUPS[$i]}/cgroup.freeze" 2>/dev/null
			rmdir "$d${TEST_CGROUPS[$i]}" 2>/dev/null || true
		done
	done
}

# The hierarchies: v2's one tree, or each mounted v1 hierarchy and a hybrid
# host's v2 tree.
cg_roots() {
	if [ -n "$V2" ]; then
		echo /sys/fs/cgroup
		return
	fi
	local d
	for d in /sys/fs/cgroup/*/; do
		[ -L "${d%/}" ] && continue
		mountpoint -q "$d" && [ -e "$d/cgroup.procs" ] && echo "${d%/}"
	done
}

unified() {
	[ -z "$V2" ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]
}

# make_test_cgroup PATH: PATH in every hierarchy, made by the test (v1
# cpuset filled in so tasks can join).
make_test_cgroup() {
	local d part sub=
	IFS=/ read -ra parts <<<"${1#/}"
	for part in "${parts[@]}"; do
		sub=$sub/$part
		TEST_CGROUPS+=("$sub")
		for d in $(cg_roots); do
			[ -d "$d$sub" ] && continue
			mkdir "$d$sub"
			# a new v1 cpuset takes no task until it has cpus and mems
			if [ -z "$V2" ] && [ -e "$d$sub/cpuset.cpus" ]; then
				cat "$d${sub%/*}/cpuset.cpus" >"$d$sub/cpuset.cpus"
				cat "$d${sub%/*}/cpuset.mems" >"$d$sub/cpuset.mems"
			fi
		done
	done
}

# start_victim PATH: a sleep of the test's own in the cgroup PATH (every
# hierarchy); its pid in $VICTIM.
start_victim() {
	local cg=$1
	(
		for d in $(cg_roots); do echo "$BASHPID" >"$d$cg/cgroup.procs"; done
		exec sleep 1000
	) &
	VICTIM=$!
	VICTIMS+=("$VICTIM")
	local i
	for i in $(seq 50); do
		grep -qx "$VICTIM" "$(cg_roots | head -1)$cg/cgroup.procs" && return 0
		sleep 0.1
	done
	echo "victim $VICTIM did not join $cg" >&2
	return 1
}

assert_exists_everywhere() { # PATH
	local d
	for d in $(cg_roots); do
		[ -d "$d$1" ] || { echo "$d$1 is gone" >&2; return 1; }
	done
}

assert_gone_everywhere() { # PATH
	local d
	for d in $(cg_roots); do
		[ ! -e "$d$1" ] || { echo "$d$1 left behind" >&2; return 1; }
	done
}

# edit_state ID JQ: change the container's state.json (original kept for
# teardown).
edit_state() {
	local f=$HUSK_ROOT/$1/state.json
	[ -e "$TEST_TMP/$1.state-orig" ] || cp "$f" "$TEST_TMP/$1.state-orig"
	jq -c "$2" "$f" >"$f.new"
	mv "$f.new" "$f"
}

restore_state() { # ID
	mv "$TEST_TMP/$1.state-orig" "$HUSK_ROOT/$1/state.json"
}

@test "a state.json cgroupPath climbing out of the hierarchy is refused by delete, kill --all, pause, ps" {
	local id fake
	id=$(ctr_id climb)
	# a plain directory listing an unrelated pid, as a cgroup would
	sleep 1000 &
	VICTIM=$!
	VICTIMS+=("$VICTIM")
	fake=$TEST_TMP/fake
	mkdir -p "$fake/pids" "$fake/memory" "$fake/unified"
	for f in "$fake" "$fake/pids" "$fake/memory" "$fake/unified"; do
		echo "$VICTIM" >"$f/cgroup.procs"
		echo "$VICTIM" >"$f/tasks"
	done
	husk_nowait create --bundle "$BUNDLE" "$id"
	# /sys/fs/cgroup/CTRL on v1, /sys/fs/cgroup on v2: up to /
	local up=/../../..
	[ -n "$V2" ] || up=$up/..
	edit_state "$id" ".cgroupPath = \"$up$fake\""
	for cmd in "kill --all $id KILL" "delete --force $id" "pause $id" "ps $id"; do
		# shellcheck disable=SC2086
		run husk $cmd
		echo "husk $cmd: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"cgroupPath"*"must not contain a \\\"..\\\" component"* ]]
		kill -0 "$VICTIM"
	done
	restore_state "$id"
	husk delete --force "$id"
	kill -0 "$VICTIM"
	assert_nothing_left "$id"
}

@test "a state.json cgroupPath naming another cgroup does not make delete --force or kill --all reach it" {
	local id victim
	id=$(ctr_id other)
	victim=/husk-victim-$TAG
	make_test_cgroup "$victim"
	start_victim "$victim"
	husk_nowait create --bundle "$BUNDLE" "$id"
	# the same shape as the container's own
	edit_state "$id" ".cgroupPath = \"$victim\""
	for cmd in "kill --all $id KILL" "delete --force $id" "pause $id" "update --pids-limit 5 $id"; do
		# shellcheck disable=SC2086
		run husk $cmd
		echo "husk $cmd: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"is not the cgroup husk created for this container"* ]]
		kill -0 "$VICTIM"
	done
	grep -qx "$VICTIM" "$(cg_roots | head -1)$victim/cgroup.procs"
	restore_state "$id"
	husk delete --force "$id"
	kill -0 "$VICTIM"
	assert_exists_everywhere "$victim"
	assert_nothing_left "$id"
}

@test "a state.json without the record of what husk created is not acted on" {
	local id
	id=$(ctr_id norec)
	husk_nowait create --bundle "$BUNDLE" "$id"
	edit_state "$id" 'del(.cgroupCreated)'
	run husk delete --force "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"without the record of the cgroup husk created"* ]]
	restore_state "$id"
	husk delete --force "$id"
	assert_nothing_left "$id"
}

@test "an existing cgroup that holds processes is refused, and it and its processes are left alone" {
	local id busy
	id=$(ctr_id busy)
	busy=/husk-busy-$TAG
	make_test_cgroup "$busy"
	start_victim "$busy"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$busy\""
	run husk_nowait create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.cgroupsPath: the cgroup /sys/fs/cgroup"*"$busy already holds processes"* ]]
	[ ! -e "$HUSK_ROOT/$id" ]
	kill -0 "$VICTIM"
	assert_exists_everywhere "$busy"
	grep -qx "$VICTIM" "$(cg_roots | head -1)$busy/cgroup.procs"
}

@test "an existing frozen cgroup is refused (no hang), and stays as it was" {
	local id fz file want
	id=$(ctr_id frozen)
	fz=/husk-frozen-$TAG
	make_test_cgroup "$fz"
	if [ -n "$V2" ]; then
		file=/sys/fs/cgroup$fz/cgroup.freeze
		want=1
	else
		[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
		file=/sys/fs/cgroup/freezer$fz/freezer.state
		want=FROZEN
	fi
	echo "$want" >"$file"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$fz\""
	# (a container's stdio must not be bats' pipe: run would wait for it)
	local rc=0
	timeout 30 "$HUSK_BIN" --root "$HUSK_ROOT" run -d --bundle "$BUNDLE" "$id" \
		</dev/null >/dev/null 2>"$TEST_TMP/err" || rc=$?
	output=$(cat "$TEST_TMP/err")
	echo "$rc $output"
	[ "$rc" -ne 0 ]
	[ "$rc" -ne 124 ]
	[[ "$output" == *"linux.cgroupsPath: the cgroup /sys/fs/cgroup"*"$fz is frozen"* ]]
	[ ! -e "$HUSK_ROOT/$id" ]
	assert_exists_everywhere "$fz"
	[ "$(cat "$file")" = "$want" ]
}

@test "an empty existing cgroup is used, and left in place by delete" {
	local id empty
	id=$(ctr_id empty)
	empty=/husk-empty-$TAG
	make_test_cgroup "$empty"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$empty\""
	husk_nowait create --bundle "$BUNDLE" "$id"
	grep -qx "$(husk state "$id" | jq -r .pid)" "$(cg_roots | head -1)$empty/cgroup.procs"
	husk delete --force "$id"
	assert_exists_everywhere "$empty"
}

@test "delete removes the directories create made and leaves a pre-existing parent" {
	local id parent
	id=$(ctr_id parent)
	parent=/husk-parent-$TAG
	make_test_cgroup "$parent"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$parent/x/ctr\""
	husk_nowait create --bundle "$BUNDLE" "$id"
	assert_exists_everywhere "$parent/x/ctr"
	husk delete --force "$id"
	assert_gone_everywhere "$parent/x"
	assert_exists_everywhere "$parent"
}

@test "a new nested cgroupsPath has every level removed on delete, in every hierarchy" {
	local id top
	id=$(ctr_id nest)
	top=/husk-nest-$TAG
	TEST_CGROUPS+=("$top" "$top/b" "$top/b/c")
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$top/b/c\""
	husk_nowait create --bundle "$BUNDLE" "$id"
	assert_exists_everywhere "$top/b/c"
	if unified; then [ -d "/sys/fs/cgroup/unified$top/b/c" ]; fi
	husk delete "$id" 2>/dev/null || husk delete --force "$id"
	assert_gone_everywhere "$top"
	[ ! -e "/sys/fs/cgroup/unified$top" ]
}

@test "a failed create removes the nested levels it made, not a pre-existing parent" {
	local id parent
	id=$(ctr_id failnest)
	parent=/husk-fparent-$TAG
	make_test_cgroup "$parent"
	TEST_CGROUPS+=("$parent/n" "$parent/n/ctr")
	# refused by the kernel when written, after the directories exist
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$parent/n/ctr\" | .linux.resources.cpu.cpus = \"4095\""
	run husk_nowait create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *cpus* ]]
	[ ! -e "$HUSK_ROOT/$id" ]
	assert_gone_everywhere "$parent/n"
	assert_exists_everywhere "$parent"
}

@test "hybrid host: the container is also in the same path of the v2 tree, removed on delete" {
	unified || skip "no hybrid v2 tree at /sys/fs/cgroup/unified"
	local id pid
	id=$(ctr_id hyb)
	husk_nowait create --bundle "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq -r .pid)
	grep -qx "0::/$id" "/proc/$pid/cgroup"
	grep -qx "$pid" "/sys/fs/cgroup/unified/$id/cgroup.procs"
	husk start "$id"
	husk delete --force "$id"
	[ ! -e "/sys/fs/cgroup/unified/$id" ]
	assert_nothing_left "$id"
}

@test "plain directories named like controllers on the cgroup tmpfs are no hierarchy (private mount ns)" {
	[ -z "$V2" ] || skip "v2 host: no per-controller directories"
	command -v unshare >/dev/null || skip "no unshare"
	local id
	id=$(ctr_id stray)
	set_args "$BUNDLE" /bin/sh -c 'cat /proc/self/cgroup'
	update_config "$BUNDLE" '.linux.namespaces |= map(select(.type != "cgroup"))'
	# In a private mount namespace only: a tmpfs over /sys/fs/cgroup holding
	# the host's hierarchies re-bound, plus plain directories named like
	# controllers the host does not mount. The host's tree is never touched.
	run unshare -m --propagation private bash -c '
		set -e
		t='"$TEST_TMP"'/cgfs
		mkdir "$t"
		mount -t tmpfs -o mode=755 husk-test "$t"
		for d in /sys/fs/cgroup/*; do
			n=${d##*/}
			if [ -L "$d" ]; then cp -P "$d" "$t/$n"
			elif mountpoint -q "$d"; then mkdir "$t/$n"; mount --bind "$d" "$t/$n"; fi
		done
		stray=
		for n in net_cls net_prio perf_event hugetlb rdma misc; do
			if [ ! -e "$t/$n" ]; then mkdir "$t/$n"; stray="$stray $n"; fi
		done
		[ -n "$stray" ]
		mount --move "$t" /sys/fs/cgroup
		echo "stray:$stray"
		"$1" --root "$2" run --bundle "$3" "$4"
		for n in $stray; do [ ! -e "/sys/fs/cgroup/$n/$4" ]; done
	' - "$HUSK_BIN" "$HUSK_ROOT" "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stray:"* ]]
	[[ "$output" == *":memory:/$id"* ]]
	assert_nothing_left "$id"
}

@test "a linux.devices entry adds no allow rule: linux.resources.devices alone decides access" {
	if [ -z "$V2" ] && ! mountpoint -q /sys/fs/cgroup/devices; then
		skip "no v1 devices hierarchy"
	fi
	local id probe
	id=$(ctr_id kmsg)
	# opening is what the device rules decide; nothing is written
	probe='ls -l /dev/kmsg
		for how in ">" "<"; do
			if out=$(sh -c "exec 3$how/dev/kmsg" 2>&1); then echo "open$how ok"
			else case $out in *"not permitted"*) echo "open$how denied";; *) echo "open$how: $out";; esac; fi
		done'
	update_config "$BUNDLE" '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1,
		"minor": 11, "fileMode": 438, "uid": 0, "gid": 0}]
		| .linux.resources.devices = [{"allow": false, "access": "rwm"}]'
	set_args "$BUNDLE" sh -c "$probe"
	run husk run -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "crw-rw-rw-"*"1,"*"11"*"/dev/kmsg" ]]
	[[ "$output" == *"open> denied"* ]]
	[[ "$output" == *"open< denied"* ]]
	# an allow in resources is what opens it (for writing: reading
	# /dev/kmsg also needs CAP_SYSLOG, which the container lacks)
	update_config "$BUNDLE" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1,
		"minor": 11, "access": "w"}]'
	run husk run -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"open> ok"* ]]
}
