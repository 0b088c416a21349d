#!/usr/bin/env bats
# linux.seccomp applied to the container process, observed from inside.

load helpers

PROBE=${HUSK_BUILDDIR}/tests/tools/seccomp-probe
AGENT=${HUSK_BUILDDIR}/tests/tools/seccomp-agent

# x86_64 syscall numbers the probe makes: getppid and getpgrp ignore their
# arguments, so an argument condition sees exactly what the probe passed
NR_GETPPID=110
NR_GETPGRP=111
NR_MKDIR=83
NR_MKDIRAT=258
# fchmodat2 (Linux 6.6) is newer than every profile below names
NR_FCHMODAT2=452
NR_GETPPID_I386=64
NR_GETPGRP_I386=65

setup() {
	require_root
	[ "$(uname -m)" = x86_64 ] || skip "the syscall numbers here are x86_64's"
	[ -x "$PROBE" ] || skip "tests/tools/seccomp-probe is not built (make check builds it)"
	setup_common
	make_bundle "$BUNDLE"
	cp "$PROBE" "$BUNDLE/rootfs/bin/seccomp-probe"
}

teardown() {
	[ -n "${AGENT_PID:-}" ] && kill "$AGENT_PID" 2>/dev/null
	teardown_common
}

# run_probe PROFILE-JSON MODE NR [ARG...]: husk run of seccomp-probe under
# linux.seccomp = PROFILE; $status and $output as `run` leaves them.
run_probe() {
	local profile=$1
	shift
	update_config "$BUNDLE" ".linux.seccomp = $profile"
	set_args "$BUNDLE" /bin/seccomp-probe "$@"
	RUN_SEQ=$((${RUN_SEQ:-0} + 1))
	run husk run -b "$BUNDLE" "$(ctr_id "probe$RUN_SEQ")"
	echo "probe $*: status $status, output: $output"
}

# rule_profile ACTION NR [EXTRA-JSON]: a profile that allows everything;
# syscall NR gets ACTION (EXTRA-JSON: more keys of the rule, after a comma)
rule_profile() {
	local action=$1 nr=$2 extra=${3:-}
	echo "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
		\"syscalls\": [{\"names\": [\"$(nr_name "$nr")\"], \"action\": \"$action\" $extra}]}"
}

nr_name() {
	case $1 in
	$NR_GETPPID) echo getppid ;;
	$NR_GETPGRP) echo getpgrp ;;
	esac
}

# What the static probe needs to start and print, for default-deny profiles.
PROBE_NEEDS='"execve", "exit_group", "exit", "brk", "arch_prctl", "set_tid_address",
	"set_robust_list", "rseq", "prlimit64", "readlink", "readlinkat", "getrandom", "mprotect",
	"mmap", "munmap", "uname", "write", "writev", "newfstatat", "fstat", "ioctl", "rt_sigaction",
	"rt_sigprocmask", "futex", "close", "openat", "read", "clone", "clone3", "madvise"'

# kernel_log_has PATTERN...: a line of the kernel log (dmesg) matches every
# PATTERN (grep -E). With auditd running, seccomp records go to its log
# instead, which this checks too.
kernel_log_lines() {
	if pgrep -x auditd >/dev/null && [ -r /var/log/audit/audit.log ]; then
		cat /var/log/audit/audit.log
	else
		dmesg 2>/dev/null
	fi
}

kernel_log_has() {
	local lines p
	lines=$(kernel_log_lines)
	for p in "$@"; do
		lines=$(grep -E -- "$p" <<<"$lines") || return 1
	done
}

require_kernel_log() {
	kernel_log_lines | grep -q . || skip "the kernel log is not readable here (dmesg)"
	grep -qw "$1" /proc/sys/kernel/seccomp/actions_logged ||
		skip "the kernel does not log seccomp action '$1' (kernel.seccomp.actions_logged)"
}

# probe_logged PROFILE-JSON WANT CODE ARGS...: run the probe with ARGS
# under PROFILE (create + start, to learn its pid), check that it printed
# WANT, and that the kernel logged its getppid with action CODE. Without
# auditd the records go through printk, which drops them past 10 in 5 s
# (printk_ratelimit): other seccomp tests on the host can use that budget
# up, so a missing record is tried again after the window, up to 3 times.
probe_logged() {
	local profile=$1 want=$2 code=$3 try
	shift 3
	for try in 1 2 3; do
		rm -f "$TEST_TMP/ctr.out"
		probe_created "$profile" "$@"
		husk start "$ID"
		wait_for_status "$ID" stopped
		[ "$(cat "$TEST_TMP/ctr.out")" = "$want" ] || { cat "$TEST_TMP/ctr.out"; return 1; }
		kernel_log_has "type=1326" " pid=$PID " "syscall=$NR_GETPPID " "code=$code" && return 0
		echo "try $try: no record for pid $PID yet" >&2
		sleep 5
	done
	return 1
}

# probe_created PROFILE-JSON MODE NR [ARG...]: create (not start) a container
# running the probe; sets ID and PID (the probe's host pid once started).
probe_created() {
	local profile=$1
	shift
	update_config "$BUNDLE" ".linux.seccomp = $profile"
	set_args "$BUNDLE" /bin/seccomp-probe "$@"
	RUN_SEQ=$((${RUN_SEQ:-0} + 1))
	ID=$(ctr_id "probe$RUN_SEQ")
	husk_nowait create -b "$BUNDLE" "$ID"
	PID=$(husk state "$ID" | jq -r .pid)
}

# start_agent [RULE...]: the notify agent on $TEST_TMP/agent.sock, its
# records in $TEST_TMP/agent; returns once it listens.
start_agent() {
	[ -x "$AGENT" ] || skip "tests/tools/seccomp-agent is not built (make check builds it)"
	AGENT_SOCK=$TEST_TMP/agent.sock
	AGENT_OUT=$TEST_TMP/agent
	mkdir -p "$AGENT_OUT"
	# never on the test's stdout: `run` would wait for the agent to exit
	"$AGENT" "$AGENT_SOCK" "$AGENT_OUT" "$@" </dev/null >"$TEST_TMP/agent.err" 2>&1 &
	AGENT_PID=$!
	local i
	for i in $(seq 100); do
		grep -q ready "$TEST_TMP/agent.err" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TEST_TMP/agent.err" >&2
	return 1
}

# wait_for_line FILE PATTERN: up to 10 s for a line of FILE to match
wait_for_line() {
	local i
	for i in $(seq 100); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line matching '$2' in $1: $(cat "$1" 2>&1)" >&2
	return 1
}

@test "SCMP_ACT_ERRNO with errnoRet: mkdir fails with that errno inside" {
	update_config "$BUNDLE" '.process.args = ["sh", "-c", "mkdir /tmp/x; echo rc=$?"]
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
	run husk run -b "$BUNDLE" sc1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *"rc=1"* ]]
}

@test "SCMP_ACT_ERRNO without errnoRet gives EPERM" {
	update_config "$BUNDLE" '.process.args = ["sh", "-c", "mkdir /tmp/x"]
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	run husk run -b "$BUNDLE" sc2
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "SCMP_ACT_KILL_PROCESS kills the process with SIGSYS (status 128+31)" {
	update_config "$BUNDLE" '.process.args = ["/bin/mkdir", "/tmp/x"]
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	run husk run -b "$BUNDLE" sc3
	[ "$status" -eq 159 ]
}

@test "an argument condition only matches the given value" {
	# personality(0xffffffff) queries; deny only personality(8)
	update_config "$BUNDLE" '.process.args = ["sh", "-c", "uname -m; setarch linux32 uname -m; echo rc=$?"]
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
				"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
	run husk run -b "$BUNDLE" sc4
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "x86_64" ]]
	[[ "$output" != *"i686"* ]]
}

@test "a profile whose default is ERRNO still runs the process when it allows what it needs" {
	update_config "$BUNDLE" '.process.args = ["/bin/busybox", "true"] | .process.noNewPrivileges = true
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
			"syscalls": [{"names": ["execve", "exit_group", "brk", "arch_prctl", "set_tid_address",
				"mmap", "munmap", "getuid", "getpid", "rt_sigprocmask", "rt_sigaction", "ioctl",
				"prctl", "capget", "capset", "setresuid", "setresgid", "setgroups", "close", "read",
				"write", "fcntl", "openat", "newfstatat", "fstat", "readlink", "getcwd", "exit",
				"sendto", "sendmsg", "geteuid", "getgid", "getegid", "uname", "close_range",
				"mprotect", "set_robust_list", "rseq", "prlimit64", "getrandom", "futex",
				"writev", "clock_gettime"],
				"action": "SCMP_ACT_ALLOW"}]}'
	run husk run -b "$BUNDLE" sc5
	[ "$status" -eq 0 ]
}

@test "an unknown action is refused at create with the JSON path, and nothing is left" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]}'
	run husk create -b "$BUNDLE" sc6
	[ "$status" -eq 1 ]
	[[ "$output" == *'linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"'* ]]
	[ ! -e "$HUSK_ROOT/sc6" ]
}

@test "a second run of the same profile loads it from the cache" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}'
	husk run -b "$BUNDLE" sc7
	[ "$(ls "$HUSK_ROOT/.seccomp-cache" | wc -l)" -ge 1 ]
	run husk --debug run -b "$BUNDLE" sc8
	[ "$status" -eq 0 ]
	[ "$(ls "$HUSK_ROOT/.seccomp-cache" | wc -l)" -eq 1 ]
}

# --- each action, observed by the process that makes the syscall ---

@test "SCMP_ACT_ALLOW for a rule: the syscall runs (the probe's own pid namespace parent is 0)" {
	run_probe "$(rule_profile SCMP_ACT_ERRNO $NR_GETPGRP)" call $NR_GETPPID
	[ "$status" -eq 0 ]
	# the probe is pid 1 of its pid namespace: its parent is outside, 0
	[ "$output" = "ret=0 errno=0" ]
}

@test "SCMP_ACT_ERRNO with errnoRet: the raw syscall returns that errno" {
	run_probe "$(rule_profile SCMP_ACT_ERRNO $NR_GETPPID ', "errnoRet": 77')" call $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=77" ]
}

@test "SCMP_ACT_KILL (= KILL_THREAD) on a single-threaded process: killed by SIGSYS, status 159" {
	run_probe "$(rule_profile SCMP_ACT_KILL $NR_GETPPID)" call $NR_GETPPID
	[ "$status" -eq 159 ]
	[ "$output" = "" ]
}

@test "SCMP_ACT_KILL_THREAD ends the calling thread only; the process goes on" {
	run_probe "$(rule_profile SCMP_ACT_KILL_THREAD $NR_GETPPID)" thread $NR_GETPPID
	[ "$status" -eq 0 ]
	# the thread never printed its result; the main thread did
	[ "$output" = "main alive" ]
}

@test "SCMP_ACT_KILL_PROCESS from a second thread kills the whole process" {
	run_probe "$(rule_profile SCMP_ACT_KILL_PROCESS $NR_GETPPID)" thread $NR_GETPPID
	[ "$status" -eq 159 ]
	[[ "$output" != *"main alive"* ]]
}

@test "SCMP_ACT_TRAP delivers SIGSYS (si_code SYS_SECCOMP) to a handler, kills without one" {
	run_probe "$(rule_profile SCMP_ACT_TRAP $NR_GETPPID)" trap $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "sigsys syscall=$NR_GETPPID code=1" ]
	run_probe "$(rule_profile SCMP_ACT_TRAP $NR_GETPPID)" call $NR_GETPPID
	[ "$status" -eq 159 ]
}

@test "SCMP_ACT_TRACE without a tracer: the syscall fails with ENOSYS (kernel semantics)" {
	run_probe "$(rule_profile SCMP_ACT_TRACE $NR_GETPPID)" call $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=38" ]
}

@test "SCMP_ACT_LOG: the syscall runs and the kernel logs it (audit type=1326)" {
	require_kernel_log log
	# it ran (the probe is pid 1: its parent is 0); 0x7ffc0000 is SECCOMP_RET_LOG
	probe_logged "$(rule_profile SCMP_ACT_LOG $NR_GETPPID)" "ret=0 errno=0" 0x7ffc0000 call $NR_GETPPID
}

@test "defaultAction SCMP_ACT_ERRNO with defaultErrnoRet; allowed syscalls run" {
	run_probe "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 99,
		\"syscalls\": [{\"names\": [$PROBE_NEEDS, \"getppid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}" \
		call $NR_GETPGRP
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=99" ]
	run_probe "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 99,
		\"syscalls\": [{\"names\": [$PROBE_NEEDS, \"getppid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}" \
		call $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "ret=0 errno=0" ]
}

@test "a syscall newer than the profile gets ENOSYS, not the default errno" {
	local profile="{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,
		\"syscalls\": [{\"names\": [$PROBE_NEEDS], \"action\": \"SCMP_ACT_ALLOW\"}]}"
	# fchmodat2 is above every number the profile names: as if the kernel lacked it
	run_probe "$profile" call $NR_FCHMODAT2 -100 0 0 0
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=38" ]
	# getpgrp is older than the newest syscall named: the default errno (EPERM)
	run_probe "$profile" call $NR_GETPGRP
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=1" ]
}

@test "a syscall name libseccomp does not know is skipped with a debug message" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["no_such_syscall_xyz", "getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]}'
	set_args "$BUNDLE" /bin/seccomp-probe call $NR_GETPPID
	run husk --debug run -b "$BUNDLE" "$(ctr_id unk)"
	[ "$status" -eq 0 ]
	[[ "$output" == *'linux.seccomp.syscalls[0].names[0]: unknown syscall \"no_such_syscall_xyz\" skipped'* ]]
	# the rest of the entry still applies
	[[ "$output" == *"ret=-1 errno=5"* ]]
}

# --- argument conditions: rule "arg0 OP 5" (MASKED_EQ: arg0 & 0xf0 == 0x50) ---

@test "argument conditions: every operator matches exactly the values it should" {
	local op expect v got
	declare -A want=(
		[SCMP_CMP_NE]="4:y 5:n 6:y" [SCMP_CMP_LT]="4:y 5:n 6:n" [SCMP_CMP_LE]="4:y 5:y 6:n"
		[SCMP_CMP_EQ]="4:n 5:y 6:n" [SCMP_CMP_GE]="4:n 5:y 6:y" [SCMP_CMP_GT]="4:n 5:n 6:y"
		[SCMP_CMP_MASKED_EQ]="0x51:y 0x61:n 0x5f:y 0x150:y 0x40:n"
	)
	for op in "${!want[@]}"; do
		local value=5 two=0
		[ "$op" = SCMP_CMP_MASKED_EQ ] && value=240 two=80
		update_config "$BUNDLE" ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
			\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42,
				\"args\": [{\"index\": 0, \"value\": $value, \"valueTwo\": $two, \"op\": \"$op\"}]}]}"
		local script=""
		for expect in ${want[$op]}; do
			script+="/bin/seccomp-probe call $NR_GETPPID ${expect%%:*}; "
		done
		set_args "$BUNDLE" /bin/sh -c "$script"
		run husk run -b "$BUNDLE" "$(ctr_id "op$RANDOM")"
		echo "$op: $output"
		[ "$status" -eq 0 ]
		local i=0
		for expect in ${want[$op]}; do
			got=${lines[$i]}
			if [ "${expect#*:}" = y ]; then
				[ "$got" = "ret=-1 errno=42" ] || { echo "$op ${expect%%:*}: want EPERM(42), got $got"; return 1; }
			else
				# getppid ran (0 or the shell's pid 1)
				[[ "$got" =~ ^ret=[01]\ errno=0$ ]] || { echo "$op ${expect%%:*}: want no match, got $got"; return 1; }
			fi
			i=$((i + 1))
		done
	done
}

@test "conditions on two arguments of one rule must both hold" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
			"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]}'
	set_args "$BUNDLE" /bin/sh -c "/bin/seccomp-probe call $NR_GETPPID 1 2; /bin/seccomp-probe call $NR_GETPPID 1 3"
	run husk run -b "$BUNDLE" "$(ctr_id two)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ret=-1 errno=42" ]
	[ "${lines[1]}" = "ret=0 errno=0" ]
}

# --- architectures ---

@test "architectures: a listed 32-bit ABI gets the rules, an unlisted one is killed" {
	# int 0x80 is the i386 ABI (AUDIT_ARCH_I386), where getppid is 64
	[ -e /proc/sys/abi/vsyscall32 ] || skip "the kernel runs no 32-bit x86 code (IA32_EMULATION)"
	local rule='"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}]'
	run_probe "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"], $rule}" \
		call32 $NR_GETPPID_I386
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=42" ]
	# i386 getpgrp (65) is allowed there, like every syscall without a rule
	run_probe "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"], $rule}" \
		call32 $NR_GETPGRP_I386
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ret=[0-9]+\ errno=0$ ]]
	# not listed: any i386 syscall is a foreign architecture, which kills
	run_probe "{\"defaultAction\": \"SCMP_ACT_ALLOW\", $rule}" call32 $NR_GETPGRP_I386
	[ "$status" -eq 159 ]
	[ "$output" = "" ]
}

@test "an unknown architecture is refused at create with the JSON path" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}'
	run husk create -b "$BUNDLE" arch1
	[ "$status" -eq 1 ]
	[[ "$output" == *'linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"'* ]]
	[ ! -e "$HUSK_ROOT/arch1" ]
}

# --- flags ---

require_flag() {
	husk features | jq -e --arg f "$1" '.linux.seccomp.supportedFlags | index($f)' >/dev/null ||
		skip "the kernel does not support $1"
}

@test "SECCOMP_FILTER_FLAG_LOG: the kernel logs an ERRNO action only when the flag is set" {
	require_flag SECCOMP_FILTER_FLAG_LOG
	require_kernel_log errno
	# the record carries the action, SECCOMP_RET_ERRNO, without the errno
	probe_logged "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],
		\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42}]}" \
		"ret=-1 errno=42" 0x50000 call $NR_GETPPID
	# the same without the flag logs nothing
	rm -f "$TEST_TMP/ctr.out"
	probe_created "$(rule_profile SCMP_ACT_ERRNO $NR_GETPPID ', "errnoRet": 42')" call $NR_GETPPID
	husk start "$ID"
	wait_for_status "$ID" stopped
	[ "$(cat "$TEST_TMP/ctr.out")" = "ret=-1 errno=42" ]
	if kernel_log_has "type=1326" " pid=$PID "; then
		echo "pid $PID was logged without SECCOMP_FILTER_FLAG_LOG"
		return 1
	fi
}

@test "SECCOMP_FILTER_FLAG_TSYNC and SPEC_ALLOW are taken and the filter applies" {
	require_flag SECCOMP_FILTER_FLAG_TSYNC
	require_flag SECCOMP_FILTER_FLAG_SPEC_ALLOW
	run_probe "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
		\"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],
		\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42}]}" call $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=42" ]
}

@test "SPEC_ALLOW: without it seccomp forces the store-bypass mitigation, with it not" {
	require_flag SECCOMP_FILTER_FLAG_SPEC_ALLOW
	grep -q 'seccomp' /sys/devices/system/cpu/vulnerabilities/spec_store_bypass 2>/dev/null ||
		skip "the kernel's store-bypass mitigation is not seccomp-driven here ($(cat /sys/devices/system/cpu/vulnerabilities/spec_store_bypass 2>&1))"
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}'
	set_args "$BUNDLE" grep ^Speculation_Store_Bypass /proc/self/status
	run husk run -b "$BUNDLE" "$(ctr_id spec1)"
	[[ "$output" == *"force mitigated"* ]]
	update_config "$BUNDLE" '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]'
	run husk run -b "$BUNDLE" "$(ctr_id spec2)"
	[[ "$output" != *"force mitigated"* ]]
}

@test "an unknown flag is refused at create with the JSON path" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}'
	run husk create -b "$BUNDLE" flag1
	[ "$status" -eq 1 ]
	[[ "$output" == *'linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"'* ]]
	[ ! -e "$HUSK_ROOT/flag1" ]
}

# --- the filter follows exec ---

@test "a process started by exec has the container's filter (Seccomp: 2, same rules)" {
	update_config "$BUNDLE" "$(printf '.linux.seccomp = %s' "$(rule_profile SCMP_ACT_ERRNO $NR_GETPPID ', "errnoRet": 42')")"
	set_args "$BUNDLE" sleep 100
	husk_nowait run -d -b "$BUNDLE" sx
	run husk exec sx sh -c "grep ^Seccomp: /proc/self/status; /bin/seccomp-probe call $NR_GETPPID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^Seccomp:[[:space:]]+2$ ]]
	[ "${lines[1]}" = "ret=-1 errno=42" ]
}

# --- SCMP_ACT_NOTIFY with listenerPath: tests/tools/seccomp-agent answers ---

notify_profile() {
	echo "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$AGENT_SOCK\",
		\"listenerMetadata\": \"probe-metadata=1;x\",
		\"syscalls\": [{\"names\": [\"getppid\", \"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
}

@test "SCMP_ACT_NOTIFY: the agent gets the fd and the container process state, and answers" {
	start_agent errno:$NR_GETPPID:13 fake:$NR_MKDIR:0 fake:$NR_MKDIRAT:0
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile) | .annotations = {\"org.test\": \"yes\"}"
	set_args "$BUNDLE" /bin/sh -c "/bin/seccomp-probe call $NR_GETPPID; mkdir /tmp/made && echo mkdir-ok; test -d /tmp/made || echo no-dir"
	ID=$(ctr_id notify)
	husk_nowait create -b "$BUNDLE" "$ID"
	PID=$(husk state "$ID" | jq -r .pid)
	husk start "$ID"
	wait_for_status "$ID" stopped
	cat "$TEST_TMP/ctr.out"
	# what the container saw: the agent's errno, and a mkdir that "worked"
	# without making anything
	[ "$(cat "$TEST_TMP/ctr.out")" = "ret=-1 errno=13
mkdir-ok
no-dir" ]
	# what the agent got: one fd, named seccompFd, and the state of
	# runtime-spec config-linux.md "The Container Process State"
	[ "$(cat "$AGENT_OUT/fds.0")" = 1 ]
	state=$AGENT_OUT/state.0.json
	cat "$state"
	[ "$(jq -c .fds "$state")" = '["seccompFd"]' ]
	[ "$(jq -r .metadata "$state")" = "probe-metadata=1;x" ]
	[ "$(jq -r .pid "$state")" = "$PID" ]
	[ "$(jq -r .ociVersion "$state")" = "$(husk features | jq -r .ociVersionMax)" ]
	[ "$(jq -r .state.id "$state")" = "$ID" ]
	[ "$(jq -r .state.pid "$state")" = "$PID" ]
	[ "$(jq -r .state.bundle "$state")" = "$(realpath "$BUNDLE")" ]
	[ "$(jq -r '.state.annotations["org.test"]' "$state")" = yes ]
	jq -e '.state.status | IN("creating", "created", "running")' "$state"
	# every request the container made, from its pid
	grep -q "^nr=$NR_GETPPID pid=$PID$" "$AGENT_OUT/requests"
	# (mkdir ran in a child of the shell)
	grep -qE "^nr=($NR_MKDIR|$NR_MKDIRAT) pid=" "$AGENT_OUT/requests"
	# one connection per state: nothing else arrived
	[ ! -e "$AGENT_OUT/state.1.json" ]
}

@test "SCMP_ACT_NOTIFY: syscalls the agent lets through run for real" {
	start_agent
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile) | .root.readonly = false"
	set_args "$BUNDLE" /bin/sh -c "mkdir /tmp/real && test -d /tmp/real && echo real-dir"
	run husk run -b "$BUNDLE" "$(ctr_id notify2)"
	[ "$status" -eq 0 ]
	[ "$output" = real-dir ]
	grep -qE "^nr=($NR_MKDIR|$NR_MKDIRAT) " "$AGENT_OUT/requests"
}

@test "SCMP_ACT_NOTIFY: exec sends the agent a state for the new process, whose calls it answers" {
	start_agent errno:$NR_GETPPID:13
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile)"
	set_args "$BUNDLE" sleep 100
	ID=$(ctr_id notifyx)
	husk_nowait run -d -b "$BUNDLE" "$ID"
	wait_for_line "$AGENT_OUT/fds.0" 1
	run husk exec --pid-file "$TEST_TMP/exec.pid" "$ID" /bin/seccomp-probe call $NR_GETPPID
	echo "exec: $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=13" ]
	# a second state, for the exec'd process
	[ "$(cat "$AGENT_OUT/fds.1")" = 1 ]
	[ "$(jq -r .pid "$AGENT_OUT/state.1.json")" = "$(cat "$TEST_TMP/exec.pid")" ]
	[ "$(jq -r .state.pid "$AGENT_OUT/state.1.json")" = "$(husk state "$ID" | jq -r .pid)" ]
	[ "$(jq -r .metadata "$AGENT_OUT/state.1.json")" = "probe-metadata=1;x" ]
	grep -q "^nr=$NR_GETPPID pid=$(cat "$TEST_TMP/exec.pid")$" "$AGENT_OUT/requests"
}

@test "SCMP_ACT_NOTIFY: no agent at listenerPath fails create clearly and leaves nothing" {
	AGENT_SOCK=$TEST_TMP/nobody-listens.sock
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile)"
	ID=$(ctr_id noagent)
	run husk create -b "$BUNDLE" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.seccomp.listenerPath: connect to $AGENT_SOCK"* ]]
	assert_nothing_left "$ID"
}

@test "SCMP_ACT_NOTIFY without listenerPath, or as the default, is refused" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}'
	run husk create -b "$BUNDLE" nl1
	[ "$status" -eq 1 ]
	[[ "$output" == *"SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"* ]]
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}'
	run husk create -b "$BUNDLE" nl2
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"* ]]
	assert_nothing_left nl1
	assert_nothing_left nl2
}

# notify_signal_test FLAGS-JSON: the agent holds a getppid; the test signals
# the caller (a handler, no SA_RESTART), then the agent replies. Prints the
# agent's verdict on its late reply.
notify_signal_verdict() {
	start_agent hold:$NR_GETPPID
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile) | .linux.seccomp.flags = $1"
	set_args "$BUNDLE" /bin/seccomp-probe sigcall $NR_GETPPID
	ID=$(ctr_id "sig$RANDOM")
	husk_nowait create -b "$BUNDLE" "$ID"
	PID=$(husk state "$ID" | jq -r .pid)
	husk start "$ID"
	wait_for_line "$AGENT_OUT/requests" '^held$'
	kill -USR1 "$PID"
	sleep 0.2
	kill -USR1 "$AGENT_PID"
	wait_for_line "$AGENT_OUT/requests" '^reply-after-signal='
	wait_for_status "$ID" stopped
	VERDICT=$(grep '^reply-after-signal=' "$AGENT_OUT/requests")
}

@test "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a received notification is not cut short by a signal" {
	require_flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	notify_signal_verdict '["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'
	# the agent's reply was taken: the syscall returned its value
	[ "$VERDICT" = "reply-after-signal=OK" ]
	grep -qx "ret=0 errno=0" "$TEST_TMP/ctr.out"
	grep -qx usr1 "$TEST_TMP/ctr.out"
}

@test "without WAIT_KILLABLE_RECV the same signal interrupts the notified syscall" {
	notify_signal_verdict '[]'
	# the kernel dropped the notification: the agent's reply is stale, and
	# the caller saw EINTR (the handler has no SA_RESTART)
	[ "$VERDICT" = "reply-after-signal=ENOENT" ]
	grep -qx "ret=-1 errno=4" "$TEST_TMP/ctr.out"
	grep -qx usr1 "$TEST_TMP/ctr.out"
}

@test "errnoRet or defaultErrnoRet on an action without an errno is refused, naming the field" {
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL", "errnoRet": 5}]}'
	run husk create -b "$BUNDLE" en1
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL takes no errno"* ]]
	update_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 5}'
	run husk create -b "$BUNDLE" en2
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno"* ]]
	assert_nothing_left en1
	assert_nothing_left en2
}

@test "SCMP_ACT_TRACE with errnoRet: still ENOSYS without a tracer (the value is for the tracer)" {
	run_probe "$(rule_profile SCMP_ACT_TRACE $NR_GETPPID ', "errnoRet": 77')" call $NR_GETPPID
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=38" ]
}

@test "SCMP_ACT_NOTIFY: an agent that hangs up before the state arrives fails create clearly, leaving nothing" {
	AGENT_SOCK=$TEST_TMP/hangup.sock
	# accepts one connection and closes it at once
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); c.close()
print("closed", flush=True)
' "$AGENT_SOCK" </dev/null >"$TEST_TMP/hangup.out" 2>&1 &
	AGENT_PID=$!
	wait_for_line "$TEST_TMP/hangup.out" '^ready$'
	# a createRuntime hook holds the init until the agent has hung up
	update_config "$BUNDLE" ".linux.seccomp = $(notify_profile)
		| .hooks.createRuntime = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\",
			\"until grep -q closed $TEST_TMP/hangup.out; do sleep 0.05; done\"]}]"
	set_args "$BUNDLE" /bin/seccomp-probe call $NR_GETPPID
	ID=$(ctr_id hangup)
	# the init's filter goes in before it parks (the notify fd is sent by
	# create, which holds the agent's connection: issue 11)
	run husk_nowait create -b "$BUNDLE" "$ID"
	wait "$AGENT_PID"
	AGENT_PID=
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.seccomp.listenerPath: send the seccomp state"* ]]
	assert_nothing_left "$ID"
	# the process never ran
	if grep -q "ret=" "$TEST_TMP/ctr.out" 2>/dev/null; then
		echo "the probe ran without its filter's agent"
		return 1
	fi
}
