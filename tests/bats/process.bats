#!/usr/bin/env bats
# process settings as the container sees them.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
}

teardown() {
	teardown_common
}

@test "user uid, gid, additionalGids and umask" {
	update_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 1002], "umask": 63}'
	run_sh "$BUNDLE" 'id -u; id -g; id -G; umask'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	[ "$(tr ' ' '\n' <<<"${lines[2]}" | sort -n | xargs)" = "5 1001 1002" ]
	[ "${lines[3]}" = 0077 ]
}

@test "the capability sets match the config" {
	# root's execve gives it its bounding set as permitted and effective
	# (the kernel's rule for uid 0), so the config keeps them equal
	update_config "$BUNDLE" '.process.noNewPrivileges = false | .process.capabilities = {
		"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
		"effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
		"permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
		"inheritable": ["CAP_KILL"],
		"ambient": ["CAP_KILL"]}'
	run_sh "$BUNDLE" 'grep ^Cap /proc/self/status'
	[ "$status" -eq 0 ]
	# CAP_CHOWN 0, CAP_KILL 5, CAP_NET_RAW 13
	[[ "$output" == *"CapInh:	0000000000000020"* ]]
	[[ "$output" == *"CapPrm:	0000000000002021"* ]]
	[[ "$output" == *"CapEff:	0000000000002021"* ]]
	[[ "$output" == *"CapBnd:	0000000000002021"* ]]
	[[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "a non-root user keeps ambient capabilities across exec, and no others" {
	update_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {
		"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL", "CAP_CHOWN"],
		"permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
	run_sh "$BUNDLE" 'grep -E "^Cap(Eff|Prm|Bnd|Amb)" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "$output" == *"CapPrm:	0000000000000020"* ]]
	[[ "$output" == *"CapEff:	0000000000000020"* ]]
	[[ "$output" == *"CapBnd:	0000000000000021"* ]]
	[[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "an ambient capability that is not inheritable fails the start" {
	update_config "$BUNDLE" '.process.capabilities = {"bounding": ["CAP_KILL"],
		"permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
	run -1 husk run -b "$BUNDLE" "$(ctr_id amb)"
	[[ "$output" == *ambient*CAP_KILL* ]]
}

@test "noNewPrivileges" {
	update_config "$BUNDLE" '.process.noNewPrivileges = true'
	run_sh "$BUNDLE" 'grep NoNewPrivs /proc/self/status'
	[ "$output" = "NoNewPrivs:	1" ]
	update_config "$BUNDLE" '.process.noNewPrivileges = false'
	run_sh "$BUNDLE" 'grep NoNewPrivs /proc/self/status'
	[ "$output" = "NoNewPrivs:	0" ]
}

@test "rlimits" {
	update_config "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
		{"type": "RLIMIT_NPROC", "soft": 77, "hard": 88}]'
	run_sh "$BUNDLE" 'ulimit -n; ulimit -Hn; grep "Max processes" /proc/self/limits'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 123 ]
	[ "${lines[1]}" = 456 ]
	[[ "${lines[2]}" =~ Max\ processes\ +77\ +88 ]]
}

@test "an unknown rlimit fails create" {
	update_config "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *RLIMIT_FOO* ]]
}

@test "oomScoreAdj" {
	update_config "$BUNDLE" '.process.oomScoreAdj = 523'
	run_sh "$BUNDLE" 'cat /proc/self/oom_score_adj'
	[ "$status" -eq 0 ]
	[ "$output" = 523 ]
}

@test "hostname and domainname" {
	update_config "$BUNDLE" '.hostname = "box1" | .domainname = "example.org"'
	run_sh "$BUNDLE" 'hostname; cat /proc/sys/kernel/domainname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box1 ]
	[ "${lines[1]}" = example.org ]
	[ "$(hostname)" != box1 ]
}

@test "sysctl in the container's network and ipc namespaces" {
	local host_fwd host_shm
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shm=$(cat /proc/sys/kernel/shmmax)
	update_config "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678"}'
	run_sh "$BUNDLE" 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 12345678 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shmmax)" = "$host_shm" ]
}

@test "an invalid sysctl name fails create" {
	update_config "$BUNDLE" '.linux.sysctl = {"../../etc/x": "1"}'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *sysctl* ]]
}

@test "cwd is the working directory; a missing cwd fails create" {
	mkdir -p "$BUNDLE/rootfs/work/dir"
	update_config "$BUNDLE" '.process.cwd = "/work/dir"'
	run_sh "$BUNDLE" pwd
	[ "$status" -eq 0 ]
	[ "$output" = /work/dir ]
	update_config "$BUNDLE" '.process.cwd = "/nonexistent"'
	run_sh "$BUNDLE" pwd
	[ "$status" -ne 0 ]
	[[ "$output" == *"/nonexistent"* ]]
}

@test "env and args with spaces reach the process unchanged" {
	update_config "$BUNDLE" '.process.env = ["PATH=/bin", "GREETING=hello  world", "EMPTY="]'
	set_args "$BUNDLE" /bin/sh -c 'printf "[%s]\n" "$@"; echo "$GREETING"; env | sort' argv0 "a b" "" ' c '
	run husk run -b "$BUNDLE" "$(ctr_id args)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[a b]" ]
	[ "${lines[1]}" = "[]" ]
	[ "${lines[2]}" = "[ c ]" ]
	[ "${lines[3]}" = "hello  world" ]
	[[ "$output" == *$'\nEMPTY=\n'* ]]
	! [[ "$output" == *HUSK* ]]
}

@test "--preserve-fds passes fd 3; every other fd is closed" {
	echo preserved >"$TEST_TMP/fd3"
	set_args "$BUNDLE" /bin/sh -c 'cat <&3; ls /proc/self/fd | sort -n | xargs'
	run husk run --preserve-fds 1 -b "$BUNDLE" "$(ctr_id fds)" 3<"$TEST_TMP/fd3" 4<"$TEST_TMP/fd3"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = preserved ]
	# ls's own directory fd is the 4th
	[ "${lines[1]}" = "0 1 2 3 4" ]
	set_args "$BUNDLE" /bin/sh -c 'ls /proc/self/fd | sort -n | xargs'
	run husk run -b "$BUNDLE" "$(ctr_id nofds)" 3<"$TEST_TMP/fd3" 4<"$TEST_TMP/fd3"
	[ "$status" -eq 0 ]
	[ "$output" = "0 1 2 3" ]
}

@test "exit codes pass through" {
	local code
	for code in 0 1 42 255; do
		run_sh "$BUNDLE" "exit $code"
		[ "$status" -eq "$code" ]
	done
}
