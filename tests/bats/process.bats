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

@test "an ambient capability that is not inheritable is a warning, as in a runc spec bundle" {
	# what `runc spec` writes: ambient without inheritable
	update_config "$BUNDLE" '.process.capabilities = {"bounding": ["CAP_KILL", "CAP_AUDIT_WRITE"],
		"effective": ["CAP_KILL", "CAP_AUDIT_WRITE"], "permitted": ["CAP_KILL", "CAP_AUDIT_WRITE"],
		"ambient": ["CAP_KILL", "CAP_AUDIT_WRITE"]}'
	set_args "$BUNDLE" /bin/sh -c 'grep -E "^Cap(Eff|Amb)" /proc/self/status'
	run husk run -b "$BUNDLE" "$(ctr_id amb)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"level=warning"*"ambient: cannot raise CAP_KILL"* ]]
	[[ "$output" == *"CapEff:	0000000020000020"* ]]
	[[ "$output" == *"CapAmb:	0000000000000000"* ]]
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
	[[ "$output" != *HUSK* ]]
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

# The scheduling fields of the container's process ($$, the shell run_sh
# starts) from /proc/PID/stat: 19 nice, 40 rt_priority, 41 policy. Field 2
# is "(comm)"; busybox's comm never holds a space, so cut counts right.
STAT_FIELDS='cut -d" " -f19,40,41 /proc/$$/stat'

@test "linux.personality LINUX32 with flags: uname -m is i686 and the flags are set" {
	update_config "$BUNDLE" '.linux.personality = {"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]}'
	run_sh "$BUNDLE" 'uname -m; cat /proc/self/personality'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = i686 ]
	# PER_LINUX32 8 | ADDR_NO_RANDOMIZE 0x40000
	[ "${lines[1]}" = 00040008 ]
	update_config "$BUNDLE" '.linux.personality = {"domain": "LINUX"}'
	run_sh "$BUNDLE" 'uname -m; cat /proc/self/personality'
	[ "${lines[0]}" = "$(uname -m)" ]
	[ "${lines[1]}" = 00000000 ]
}

@test "exec gets the container's personality" {
	local id
	id=$(ctr_id pers)
	update_config "$BUNDLE" '.linux.personality = {"domain": "LINUX32"}'
	set_args "$BUNDLE" sleep 100
	husk_nowait run --detach -b "$BUNDLE" "$id"
	run husk exec "$id" uname -m
	[ "$status" -eq 0 ]
	[ "$output" = i686 ]
}

@test "scheduler SCHED_BATCH and SCHED_IDLE with nice" {
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	run_sh "$BUNDLE" "$STAT_FIELDS"
	[ "$status" -eq 0 ]
	# nice 7, rt_priority 0, policy 3 (SCHED_BATCH)
	[ "$output" = "7 0 3" ]
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_IDLE"}'
	run_sh "$BUNDLE" "$STAT_FIELDS"
	[ "$status" -eq 0 ]
	# SCHED_IDLE keeps the nice value it inherits (the caller's)
	[ "$output" = "$(nice) 0 5" ]
}

@test "scheduler SCHED_FIFO with a priority; SCHED_FLAG_RESET_ON_FORK gives children SCHED_OTHER" {
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10,
		"flags": ["SCHED_FLAG_RESET_ON_FORK"]}'
	# with CONFIG_RT_GROUP_SCHED a new v1 cpu cgroup has no realtime time
	if [ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]; then
		update_config "$BUNDLE" '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 1000000}'
	fi
	# the first cut is a child of the shell (the last one replaces it)
	run_sh "$BUNDLE" "cut -d' ' -f19,40,41 /proc/self/stat; $STAT_FIELDS"
	[ "$status" -eq 0 ]
	# the child: SCHED_OTHER at nice 0 (the reset from a realtime policy);
	# the init: the caller's nice value, rt_priority 10, policy 1 (SCHED_FIFO)
	[ "${lines[0]}" = "0 0 0" ]
	[ "${lines[1]}" = "$(nice) 10 1" ]
}

@test "scheduler SCHED_DEADLINE with runtime, deadline and period" {
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_DEADLINE",
		"runtime": 10000000, "deadline": 30000000, "period": 100000000}'
	# a deadline task cannot fork: the shell execs grep
	run_sh "$BUNDLE" 'exec grep -E "^policy " /proc/self/sched'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^policy\ +:\ +6$ ]]
}

@test "a realtime policy without realtime time in the cpu cgroup fails with a hint" {
	[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no cgroup v1 realtime CPU controller (CONFIG_RT_GROUP_SCHED)"
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_RR", "priority": 5}'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.scheduler"*SCHED_RR*realtimeRuntime* ]]
}

@test "ioPriority classes read back with ionice" {
	local io
	for io in IOPRIO_CLASS_BE:6:"best-effort: prio 6" IOPRIO_CLASS_RT:2:"realtime: prio 2" \
		IOPRIO_CLASS_IDLE:0:idle; do
		update_config "$BUNDLE" "$(printf '.process.ioPriority = {"class": "%s", "priority": %s}' \
			"${io%%:*}" "$(cut -d: -f2 <<<"$io")")"
		# a child inherits it: ionice of the shell and of a new process
		run_sh "$BUNDLE" 'ionice -p $$; ionice'
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "${io#*:*:}" ]
		[ "${lines[1]}" = "${io#*:*:}" ]
	done
}

@test "bad scheduler, ioPriority, personality and rlimits values fail create naming the field" {
	local id case filter want
	local -a cases=(
		'.process.scheduler = {"policy": "SCHED_NOPE"}|process.scheduler.policy: unknown policy "SCHED_NOPE"'
		'.process.scheduler = {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_BOGUS"]}|process.scheduler.flags[0]: unknown flag "SCHED_FLAG_BOGUS"'
		'.process.scheduler = {"policy": "SCHED_OTHER", "nice": 20}|process.scheduler.nice: 20 is not in -20..19'
		'.process.scheduler = {"policy": "SCHED_BATCH", "priority": 3}|process.scheduler.priority: SCHED_BATCH takes no priority'
		'.process.scheduler = {"policy": "SCHED_FIFO"}|process.scheduler.priority: SCHED_FIFO needs a priority in 1..99'
		'.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 50000000, "deadline": 30000000}|process.scheduler: SCHED_DEADLINE needs 0 < runtime <= deadline <= period (or period 0), got runtime 50000000, deadline 30000000, period 0'
		'.process.ioPriority = {"class": "IOPRIO_CLASS_NONE", "priority": 0}|process.ioPriority.class: unknown class "IOPRIO_CLASS_NONE"'
		'.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}|process.ioPriority.priority: 8 is not in 0..7'
		'.linux.personality = {"domain": "BSD"}|linux.personality.domain: unknown domain "BSD"'
		'.linux.personality = {"domain": "LINUX", "flags": ["NO_SUCH_FLAG"]}|linux.personality.flags[0]: unknown flag "NO_SUCH_FLAG"'
		'.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}, {"type": "RLIMIT_NOFILE", "soft": 20, "hard": 20}]|process.rlimits[1].type: RLIMIT_NOFILE is already set by process.rlimits[0]'
		'.process.rlimits = [{"type": "RLIMIT_CORE", "soft": 2, "hard": 1}]|process.rlimits[0]: soft limit above the hard limit'
		'.process.execCPUAffinity = {"initial": "0-x"}|process.execCPUAffinity.initial: "0-x" is not a CPU list'
	)
	set_args "$BUNDLE" sleep 100
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	for case in "${cases[@]}"; do
		filter=${case%%|*}
		want=${case#*|}
		cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
		update_config "$BUNDLE" "$filter"
		id=$(ctr_id bad)
		run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$id"
		echo "$filter -> $status: $output"
		[ "$status" -ne 0 ]
		# the text log format escapes the quotes
		[[ "${output//\\/}" == *"$want"* ]]
		assert_nothing_left "$id" "" "$TEST_TMP/pid"
	done
	[ -z "$(husk list -q)" ]
}

@test "rlimits: unlimited values, and a hard limit above the caller's" {
	# jq turns 2^64-1 into a float: put the number in with sed, after the
	# last jq edit
	set_args "$BUNDLE" /bin/sh -c 'grep -E "^Max (core file size|data size)" /proc/self/limits'
	update_config "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_CORE", "soft": 1, "hard": 1},
		{"type": "RLIMIT_DATA", "soft": 1048576, "hard": 2}]'
	sed -i 's/"soft": 1,/"soft": 18446744073709551615,/; s/"hard": 1$/"hard": 18446744073709551615/;
		s/"hard": 2$/"hard": 18446744073709551615/' "$BUNDLE/config.json"
	[ "$(grep -c '"hard": 18446744073709551615' "$BUNDLE/config.json")" -eq 2 ]
	# (the caller's hard limits are unlimited: raising them needs
	# CAP_SYS_RESOURCE, checked below)
	[ "$(ulimit -Hc)" = unlimited ] && [ "$(ulimit -Hd)" = unlimited ] ||
		skip "the caller's core and data hard limits are not unlimited"
	run husk run -b "$BUNDLE" "$(ctr_id unlimited)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^Max\ data\ size\ +1048576\ +unlimited ]]
	[[ "${lines[1]}" =~ ^Max\ core\ file\ size\ +unlimited\ +unlimited ]]

	local hard=$(( $(ulimit -Hn) + 1000 ))
	update_config "$BUNDLE" ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": $hard}]"
	run_sh "$BUNDLE" 'ulimit -Hn'
	# CAP_SYS_RESOURCE is bit 24 of CapEff
	if (( (16#$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24) & 1 )); then
		[ "$status" -eq 0 ]
		[ "$output" = "$hard" ]
	else
		[ "$status" -ne 0 ]
		[[ "$output" == *"process.rlimits[0]: setrlimit RLIMIT_NOFILE"*CAP_SYS_RESOURCE* ]]
	fi
}

SESSIONKEY=${HUSK_BUILDDIR}/tests/tools/sessionkey

@test "the container gets a session keyring of its own named after it; --no-new-keyring keeps the caller's" {
	[ -x "$SESSIONKEY" ] || skip "tests/tools/sessionkey is not built (make check builds it)"
	local id caller
	cp "$SESSIONKEY" "$BUNDLE/rootfs/bin/sessionkey"
	set_args "$BUNDLE" /bin/sessionkey
	caller=$("$SESSIONKEY")
	id=$(ctr_id keyring)
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${output#* }" = "$id" ]
	[ "${output%% *}" != "${caller%% *}" ]
	run husk run --no-new-keyring -b "$BUNDLE" "$(ctr_id nokeyring)"
	[ "$status" -eq 0 ]
	[ "$output" = "$caller" ]
	# create takes the flag too
	id=$(ctr_id nokeyring2)
	husk_nowait create --no-new-keyring -b "$BUNDLE" "$id"
	husk start "$id"
	wait_for_status "$id" stopped
	[ "$(cat "$TEST_TMP/ctr.out")" = "$caller" ]
}

@test "exec with execCPUAffinity: final CPUs after joining the cgroup, the cgroup's CPUs when only initial is given" {
	[ "$(nproc --all)" -ge 2 ] || skip "needs two CPUs"
	local id all
	all=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
	id=$(ctr_id affinity)
	set_args "$BUNDLE" sleep 100
	husk_nowait run --detach -b "$BUNDLE" "$id"
	jq '.process | .args = ["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"] |
		.execCPUAffinity = {"initial": "0", "final": "1"}' "$BUNDLE/config.json" >"$TEST_TMP/final.json"
	run husk exec --process "$TEST_TMP/final.json" "$id"
	[ "$status" -eq 0 ]
	[[ "$output" =~ Cpus_allowed_list:[[:space:]]+1$ ]]
	# husk itself pinned to CPU 0: with only initial the process gets the
	# container's CPUs back (without execCPUAffinity what it gets depends
	# on whether the kernel resets the affinity when it joins a cpuset)
	jq '.process | .args = ["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"] |
		.execCPUAffinity = {"initial": "1"}' "$BUNDLE/config.json" >"$TEST_TMP/initial.json"
	run taskset -c 0 "$HUSK_BIN" --root "$HUSK_ROOT" exec --process "$TEST_TMP/initial.json" "$id"
	[ "$status" -eq 0 ]
	[[ "$output" =~ Cpus_allowed_list:[[:space:]]+$all$ ]]
	# a CPU list that parses but names no CPU of the machine
	jq '.process | .execCPUAffinity = {"final": "1000"}' "$BUNDLE/config.json" >"$TEST_TMP/bad.json"
	run husk exec --process "$TEST_TMP/bad.json" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.execCPUAffinity.final"*1000* ]]
}
