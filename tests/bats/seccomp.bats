#!/usr/bin/env bats
# linux.seccomp applied to the container process, observed from inside.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
}

teardown() {
	teardown_common
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
