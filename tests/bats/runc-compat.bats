#!/usr/bin/env bats
# runc 1.1 behaviours husk matches (issue 13): exec on a paused container,
# exec --cgroup, hook order and working directory, --debug, bind sources
# only the runtime reaches, --no-pivot's host /proc and /sys, a config
# without a mount namespace.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
}

teardown() {
	teardown_common
}

# start_sleeper: a running container ($ID) whose init sleeps
start_sleeper() {
	update_config "$BUNDLE" '.process.args = ["sleep", "1000"] | .root.readonly = false'
	ID=$(ctr_id rc)
	husk_nowait run -d -b "$BUNDLE" "$ID"
	wait_for_status "$ID" running
}

@test "exec into a paused container is refused with runc's words; nothing is left waiting" {
	start_sleeper
	husk pause "$ID"
	# the old husk hung here: bounded, so the test fails instead
	# (output to a file: a frozen child of the old husk held a pipe open)
	local rc=0
	timeout -s KILL 20 "$HUSK_BIN" --root "$HUSK_ROOT" exec "$ID" touch /tmp/ran \
		</dev/null >"$TEST_TMP/exec.out" 2>&1 || rc=$?
	cat "$TEST_TMP/exec.out"
	[ "$rc" -ne 0 ]
	[ "$rc" -ne 137 ]
	grep -q "cannot exec in a paused container" "$TEST_TMP/exec.out"
	husk resume "$ID"
	run husk exec "$ID" ls /tmp/ran
	[ "$status" -ne 0 ]
	run husk exec "$ID" sh -c 'ps -o comm | grep -c touch'
	[ "$output" = 0 ]
}

@test "exec --ignore-paused waits for resume, then runs" {
	start_sleeper
	husk pause "$ID"
	husk exec --ignore-paused "$ID" touch /tmp/ran </dev/null >"$TEST_TMP/exec.out" 2>&1 &
	local epid=$!
	husk resume "$ID"
	wait "$epid"
	run husk exec "$ID" ls /tmp/ran
	[ "$status" -eq 0 ]
}

@test "exec --ignore-paused on a paused container still ends on SIGTERM and SIGINT" {
	start_sleeper
	husk pause "$ID"
	local sig
	for sig in TERM INT; do
		# a background job of a script starts with SIGINT ignored
		env --default-signal=INT "$HUSK_BIN" --root "$HUSK_ROOT" exec --ignore-paused "$ID" touch /tmp/ran-$sig \
			</dev/null >"$TEST_TMP/exec.out" 2>&1 &
		local epid=$!
		# wait until the entering process is in the frozen cgroup
		local i n procs
		procs="$(ctr_cgroup_dir freezer)/cgroup.procs"
		for i in $(seq 100); do
			n=$(wc -l <"$procs")
			[ "$n" -gt 1 ] && break
			sleep 0.1
		done
		[ "$n" -gt 1 ]
		kill -$sig "$epid"
		local rc=0
		# bounded: a husk that ignores the signal fails the test
		timeout 20 tail --pid="$epid" -f /dev/null || rc=$?
		[ "$rc" -eq 0 ]
		wait "$epid" || true
	done
	husk resume "$ID"
	# the half-made process died with husk: it never ran
	run husk exec "$ID" sh -c 'ls /tmp/ran-*'
	[ "$status" -ne 0 ]
	wait_for_status "$ID" running
}

# the container's cgroup on hierarchy CTRL (v1) or the unified one
ctr_cgroup_dir() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup$(husk state "$ID" | jq -r '.cgroupPath // empty')"
	else
		echo "/sys/fs/cgroup/$1/$ID"
	fi
}

@test "exec --cgroup CONTROLLER:PATH enters that sub-cgroup of the container's" {
	start_sleeper
	[ -d /sys/fs/cgroup/memory ] || skip "needs the cgroup v1 memory hierarchy (host is v2)"
	mkdir "/sys/fs/cgroup/memory/$ID/sub"
	run husk exec --cgroup memory:/sub "$ID" cat /proc/self/cgroup
	rmdir "/sys/fs/cgroup/memory/$ID/sub"
	[ "$status" -eq 0 ]
	[[ "$output" == *":memory:/$ID/sub"* ]] || [[ "$output" == *":memory:/sub"* ]]
	# the other hierarchies: the container's own cgroup
	[[ "$(grep ':pids:' <<<"$output")" == *"/$ID" || "$(grep ':pids:' <<<"$output")" == *":/" ]]
	[[ "$(grep ':pids:' <<<"$output")" != *sub* ]]
}

@test "exec --cgroup PATH enters that sub-cgroup on every hierarchy" {
	start_sleeper
	local d dirs=()
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		dirs=("$(ctr_cgroup_dir)")
	else
		for d in /sys/fs/cgroup/*/"$ID"; do dirs+=("$d"); done
	fi
	for d in "${dirs[@]}"; do
		mkdir "$d/s1"
		# a v1 cpuset child starts empty: no task could join it
		if [ -f "$d/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/s1/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/s1/cpuset.mems"
		fi
	done
	run husk exec --cgroup s1 "$ID" cat /proc/self/cgroup
	for d in "${dirs[@]}"; do rmdir "$d/s1"; done
	[ "$status" -eq 0 ]
	[[ "$(grep -c '/s1$' <<<"$output")" -ge "${#dirs[@]}" ]]
}

@test "exec --cgroup refuses paths leaving the container's cgroup, bad syntax and missing cgroups" {
	start_sleeper
	local bad
	for bad in .. ../x a/../../x memory:../x memory:a/../.. "memory:" ":x" "a:b:c" "mem/ory:x"; do
		run husk exec --cgroup "$bad" "$ID" true
		[ "$status" -ne 0 ]
		[[ "$output" == *"--cgroup"* ]]
	done
	run husk exec --cgroup nosuch "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"--cgroup"*"No such file"* ]]
	if [ -d /sys/fs/cgroup/memory ]; then
		run husk exec --cgroup nosuchcontroller:x "$ID" true
		[ "$status" -ne 0 ]
		[[ "$output" == *"nosuchcontroller"* ]]
		run husk exec --cgroup memory:x --cgroup memory:y "$ID" true
		[ "$status" -ne 0 ]
		[[ "$output" == *"given twice"* ]]
	fi
	# nothing ran, nothing was created
	[ ! -e "/sys/fs/cgroup/memory/x" ]
	[ ! -e "/sys/fs/cgroup/memory/$ID/x" ]
}

@test "a startContainer hook runs under the container's seccomp filter, as in runc" {
	update_config "$BUNDLE" '.root.readonly = false
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
		| .hooks.startContainer = [{"path": "/bin/sh",
			"args": ["sh", "-c", "mkdir /tmp/by-hook 2>/tmp/hook.err; echo $? >/tmp/hook.rc"]}]'
	run_sh "$BUNDLE" 'cat /tmp/hook.rc /tmp/hook.err; ls -d /tmp/by-hook'
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = 1 ]
	[[ "${lines[1]}" == *"Operation not permitted"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/by-hook" ]
}

@test "a createContainer hook runs with the container's rootfs as its working directory" {
	update_config "$BUNDLE" '.hooks.createContainer = [{"path": "/bin/sh",
		"args": ["sh", "-c", "pwd >'"$TEST_TMP"'/hook.cwd; ls >'"$TEST_TMP"'/hook.ls"]}]'
	run_sh "$BUNDLE" true
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/hook.cwd")" = "$BUNDLE/rootfs" ]
	grep -qx bin "$TEST_TMP/hook.ls"
}

@test "--debug logs the main steps of create and exec (text and json); without it nothing extra" {
	update_config "$BUNDLE" '.process.args = ["sleep", "1000"]'
	ID=$(ctr_id dbg)
	"$HUSK_BIN" --root "$HUSK_ROOT" --debug run -d -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$TEST_TMP/create.err"
	cat "$TEST_TMP/create.err"
	grep -q "level=debug msg=\"create $ID: config loaded" "$TEST_TMP/create.err"
	grep -q "level=debug msg=\"create $ID: cgroup [^ ]*$ID\"" "$TEST_TMP/create.err"
	grep -q "level=debug msg=\"create $ID: init [0-9]* ready: .*process sleep prepared" "$TEST_TMP/create.err"
	run husk --debug --log-format json exec "$ID" true
	[ "$status" -eq 0 ]
	[ "$(grep -c '^{"level":"debug","msg":"exec '"$ID"': ' <<<"$output")" -eq 2 ]
	[[ "$output" == *'"msg":"exec '"$ID"': process '*' runs true"'* ]]
	[[ "$output" == *'"msg":"exec '"$ID"': joining cgroup '* ]]
	run husk exec "$ID" true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "--no-pivot: the host's /proc is gone from the container's mount namespace, so a nested userns cannot mount procfs" {
	local tool=$HUSK_BUILDDIR/tests/tools/userns-proc
	[ -x "$tool" ] || skip "tests/tools/userns-proc is not built (make check builds it)"
	cp "$tool" "$BUNDLE/rootfs/bin/userns-proc"
	mkdir -p "$BUNDLE/rootfs/x"
	# no user namespace of the container's own: the kernel's procfs
	# visibility check applies in the process's nested one
	# and a uid other than 0: mapping the host's root into a new user
	# namespace needs CAP_SETFCAP (Linux 5.12), which the container lacks
	update_config "$BUNDLE" '.linux.namespaces |= map(select(.type != "user"))
		| .process.user = {"uid": 1000, "gid": 1000}'
	set_args "$BUNDLE" /bin/userns-proc /x
	# the pivoted container: refused (its /proc has masked submounts)
	run husk run -b "$BUNDLE" "$(ctr_id piv)"
	echo "pivot: $status $output"
	[ "$status" -ne 2 ] || skip "this kernel refuses the nested user namespace: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mount proc: Operation not permitted"* ]]
	run husk run --no-pivot -b "$BUNDLE" "$(ctr_id nopiv)"
	echo "no-pivot: $status $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mount proc: Operation not permitted"* ]]
}

# no_mount_ns: the bundle's config without a "mount" namespace entry
no_mount_ns() {
	update_config "$BUNDLE" '.linux.namespaces |= map(select(.type != "mount"))'
}

@test "without a mount namespace the container has the runtime's, chrooted into its rootfs; the host's mount table is untouched" {
	no_mount_ns
	update_config "$BUNDLE" '.mounts = [] | .linux.maskedPaths = [] | .linux.readonlyPaths = [] |
		.root.readonly = false | .process.args = ["sleep", "1000"]'
	echo "in the rootfs" >"$BUNDLE/rootfs/marker"
	local before pid
	before=$(cat /proc/self/mountinfo)
	ID=$(ctr_id nomnt)
	husk_nowait run -d -b "$BUNDLE" "$ID"
	pid=$(husk state "$ID" | jq -r .pid)
	# the mount namespace is inherited (runtime-spec), the root is the rootfs
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
	[ "$(stat -L -c %d:%i "/proc/$pid/root")" = "$(stat -c %d:%i "$BUNDLE/rootfs")" ]
	# exec takes the init's root too, not the host's
	run husk exec "$ID" cat /marker
	[ "$status" -eq 0 ]
	[ "$output" = "in the rootfs" ]
	run husk exec "$ID" ls /proc
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	husk delete --force "$ID"
	assert_nothing_left "$ID"
	diff <(echo "$before") /proc/self/mountinfo
}

@test "without a mount namespace, masked/read-only paths, mounts and root.readonly are refused naming the field; nothing is left, nothing mounted" {
	no_mount_ns
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	local before case filter want
	before=$(cat /proc/self/mountinfo)
	for case in \
		'.mounts = [] => linux.maskedPaths: unable to restrict sys entries without a private mount namespace' \
		'.mounts = [] | .linux.maskedPaths = [] => linux.readonlyPaths: unable to restrict sys entries without a private mount namespace' \
		'.linux.maskedPaths = [] | .linux.readonlyPaths = [] => mounts: needs a mount namespace of the container' \
		'.mounts = [] | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = true => root.readonly: needs a mount namespace of the container'; do
		filter=${case%% => *} want=${case#* => }
		cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
		update_config "$BUNDLE" "$filter"
		ID=$(ctr_id nomnt)
		run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
		[ "$status" -ne 0 ]
		[[ "$output" == *"$want"* ]]
		assert_nothing_left "$ID" "" "$TEST_TMP/pid"
		diff <(echo "$before") /proc/self/mountinfo
	done
}

@test "a mount entry whose path is the runtime's own mount namespace is no namespace of the container's: chroot only, mounts refused, the host's table untouched" {
	# joining it would mean mounting and pivot_root in the host's table
	update_config "$BUNDLE" '.linux.namespaces |= map(if .type == "mount" then .path = "/proc/'"$$"'/ns/mnt" else . end)'
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	local before pid
	before=$(cat /proc/self/mountinfo)
	ID=$(ctr_id joinhost)
	run husk_nowait create -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.maskedPaths: unable to restrict sys entries without a private mount namespace"* ]]
	assert_nothing_left "$ID"
	diff <(echo "$before") /proc/self/mountinfo
	update_config "$BUNDLE" '.mounts = [] | .linux.maskedPaths = [] | .linux.readonlyPaths = [] |
		.root.readonly = false | .process.args = ["sleep", "1000"]'
	echo "in the rootfs" >"$BUNDLE/rootfs/marker"
	husk_nowait run -d -b "$BUNDLE" "$ID"
	pid=$(husk state "$ID" | jq -r .pid)
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
	[ "$(stat -L -c %d:%i "/proc/$pid/root")" = "$(stat -c %d:%i "$BUNDLE/rootfs")" ]
	run husk exec "$ID" cat /marker
	echo "exec: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "in the rootfs" ]
	husk delete --force "$ID"
	assert_nothing_left "$ID"
	diff <(echo "$before") /proc/self/mountinfo
}

@test "a bind source only the runtime can reach (under a 0700 directory of root's) is bound in a user-namespaced container" {
	# the container's root (host uid 100000) reaches the rootfs, but not
	# the source: its parent directory is root's, mode 0700
	chmod 755 "$TEST_TMP"
	mkdir -m 0700 "$TEST_TMP/private"
	mkdir -m 0755 "$TEST_TMP/private/shared"
	echo data >"$TEST_TMP/private/shared/file"
	mkdir "$BUNDLE/rootfs/data"
	update_config "$BUNDLE" '.process.args = ["sh", "-c", "ls /data; cat /data/file; grep \" /data \" /proc/mounts"]
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts += [{"destination": "/data", "type": "bind",
			"source": "'"$TEST_TMP/private/shared"'", "options": ["bind", "ro"]}]'
	run husk run -b "$BUNDLE" "$(ctr_id reach)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = file ]
	[ "${lines[1]}" = data ]
	[[ "${lines[2]}" == *" /data "*" ro,"* ]]
	# a source that does not exist still fails, naming the mount
	update_config "$BUNDLE" '.mounts[-1].source = "'"$TEST_TMP/private/missing"'"'
	ID=$(ctr_id reach)
	run husk run -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"mounts["*"]: source $TEST_TMP/private/missing: No such file or directory"* ]]
	assert_nothing_left "$ID"
}
