#!/usr/bin/env bats
# husk exec: a new process inside a running container.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	update_config "$BUNDLE" '.process.args = ["sleep", "1000"]'
	husk run -d -b "$BUNDLE" ex
}

teardown() {
	teardown_common
}

@test "exec runs in the container's namespaces and passes the exit status" {
	run husk exec ex sh -c 'for n in pid mnt net; do readlink /proc/1/ns/$n; readlink /proc/self/ns/$n; done; tr "\0" " " </proc/1/cmdline'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${lines[2]}" = "${lines[3]}" ]
	[ "${lines[4]}" = "${lines[5]}" ]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/pid)" ]
	[[ "${lines[6]}" == sleep* ]]
	run husk exec ex sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run husk exec ex sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "exec joins the container's cgroup" {
	pid=$(husk state ex | jq -r .pid)
	husk exec -d --pid-file "$TEST_TMP/pid" ex sleep 30 >/dev/null 2>&1
	epid=$(cat "$TEST_TMP/pid")
	[ "$(grep ':memory:' /proc/$epid/cgroup)" = "$(grep ':memory:' /proc/$pid/cgroup)" ]
	[[ "$(grep ':memory:' /proc/$epid/cgroup)" == *"/ex" ]]
}

@test "exec --env --cwd --user --additional-gids" {
	run husk exec --env FOO=bar --cwd /tmp --user 1000:1001 --additional-gids 5 ex sh -c 'echo $FOO; pwd; id -u; id -g; id -G'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = bar ]
	[ "${lines[1]}" = /tmp ]
	[ "${lines[2]}" = 1000 ]
	[ "${lines[3]}" = 1001 ]
	[[ "${lines[4]}" == *5* ]]
}

@test "exec --cap adds to bounding, effective, permitted but never inheritable" {
	run husk exec --cap CAP_SYS_ADMIN ex sh -c 'grep -E "^Cap(Inh|Eff|Bnd)" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"0000000000000000" ]]
	# CAP_SYS_ADMIN is bit 21
	eff=$(echo "${lines[1]}" | awk '{print $2}')
	[ $(( 0x$eff >> 21 & 1 )) -eq 1 ]
}

@test "exec --no-new-privs sets NoNewPrivs" {
	update_config "$BUNDLE" '.'
	run husk exec --no-new-privs ex grep NoNewPrivs /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *"1" ]]
}

@test "exec --process FILE runs that process" {
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-process-json; pwd"], "cwd": "/etc", "env": ["PATH=/bin"]}
	JSON
	run husk exec --process "$TEST_TMP/process.json" ex
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-process-json ]
	[ "${lines[1]}" = /etc ]
}

@test "exec --detach --pid-file returns at once with the pid" {
	# the detached process keeps our stdout: do not wait for it to close
	husk exec -d --pid-file "$TEST_TMP/pid" ex sleep 30 >/dev/null 2>&1
	pid=$(cat "$TEST_TMP/pid")
	[ -d "/proc/$pid" ]
	grep -q sleep "/proc/$pid/cmdline"
	kill -9 "$pid"
}

@test "concurrent execs all succeed" {
	for i in $(seq 10); do husk exec ex sh -c "echo $i" >"$TEST_TMP/out.$i" & done
	wait
	for i in $(seq 10); do [ "$(cat "$TEST_TMP/out.$i")" = "$i" ]; done
}

@test "exec of a missing command, into a stopped or a missing container fails with the engine words" {
	run husk exec ex nonexistent-cmd
	[ "$status" -ne 0 ]
	[[ "$output" == *'executable file not found in $PATH'* ]]
	husk kill ex KILL
	sleep 0.3
	run husk exec ex true
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run husk exec nosuch true
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "exec with an LSM label fails clearly on a host without one" {
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "the host runs AppArmor"
	run husk exec --apparmor unconfined ex true
	[ "$status" -eq 1 ]
	[[ "$output" == *'--apparmor: process.apparmorProfile: \"unconfined\" asks for AppArmor, which this host does not run'* ]]
}

@test "exec -p FILE and -c CAP are the short forms of --process and --cap" {
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "grep ^CapBnd /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"], "capabilities": {"bounding": ["CAP_CHOWN"]}}
	JSON
	run husk exec -p "$TEST_TMP/process.json" -c CAP_SYS_ADMIN ex
	[ "$status" -eq 0 ]
	# CAP_CHOWN is bit 0, CAP_SYS_ADMIN bit 21
	[ "$output" = "CapBnd:	0000000000200001" ]
}
