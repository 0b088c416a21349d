#!/usr/bin/env bats
# husk exec: a new process inside a running container.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	update_config "$BUNDLE" '.process.args = ["sleep", "1000"]'
	# ids name host cgroups: unique per test, so parallel runs never share one
	EX=$(ctr_id ex)
	husk run -d -b "$BUNDLE" "$EX"
}

teardown() {
	[ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
	teardown_common
}

RECVTTY=${HUSK_BUILDDIR}/tests/tools/recvtty

# start_receiver: recvtty on $TEST_TMP/console.sock, what the pty prints in
# $TEST_TMP/tty.out; returns once it listens (see terminal.bats)
start_receiver() {
	[ -x "$RECVTTY" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	SOCK=$TEST_TMP/console.sock
	"$RECVTTY" "$SOCK" >"$TEST_TMP/tty.out" 2>"$TEST_TMP/recv.err" &
	RECV_PID=$!
	local i
	for i in $(seq 100); do
		grep -q ready "$TEST_TMP/recv.err" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TEST_TMP/recv.err" >&2
	return 1
}

@test "exec runs in the container's namespaces and passes the exit status" {
	run husk exec "$EX" sh -c 'for n in pid mnt net; do readlink /proc/1/ns/$n; readlink /proc/self/ns/$n; done; tr "\0" " " </proc/1/cmdline'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${lines[2]}" = "${lines[3]}" ]
	[ "${lines[4]}" = "${lines[5]}" ]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/pid)" ]
	[[ "${lines[6]}" == sleep* ]]
	run husk exec "$EX" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run husk exec "$EX" sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "exec joins the container's cgroup" {
	pid=$(husk state "$EX" | jq -r .pid)
	husk exec -d --pid-file "$TEST_TMP/pid" "$EX" sleep 30 >/dev/null 2>&1
	epid=$(cat "$TEST_TMP/pid")
	# v1: the memory hierarchy's line; v2: the unified one
	local line=':memory:'
	grep -q "$line" /proc/self/cgroup || line='^0::'
	[ "$(grep "$line" /proc/$epid/cgroup)" = "$(grep "$line" /proc/$pid/cgroup)" ]
	[[ "$(grep "$line" /proc/$epid/cgroup)" == *"/$EX" ]]
}

@test "exec --env --cwd --user --additional-gids" {
	run husk exec --env FOO=bar --cwd /tmp --user 1000:1001 --additional-gids 5 "$EX" sh -c 'echo $FOO; pwd; id -u; id -g; id -G'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = bar ]
	[ "${lines[1]}" = /tmp ]
	[ "${lines[2]}" = 1000 ]
	[ "${lines[3]}" = 1001 ]
	[[ "${lines[4]}" == *5* ]]
}

@test "exec --cap adds to bounding, effective, permitted but never inheritable" {
	run husk exec --cap CAP_SYS_ADMIN "$EX" sh -c 'grep -E "^Cap(Inh|Eff|Bnd)" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"0000000000000000" ]]
	# CAP_SYS_ADMIN is bit 21
	eff=$(echo "${lines[1]}" | awk '{print $2}')
	[ $(( 0x$eff >> 21 & 1 )) -eq 1 ]
}

@test "exec --no-new-privs sets NoNewPrivs on a container whose config does not" {
	local id
	id=$(ctr_id nnp)
	update_config "$BUNDLE" '.process.noNewPrivileges = false'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec "$id" grep NoNewPrivs /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" =~ NoNewPrivs:[[:space:]]+0$ ]]
	run husk exec --no-new-privs "$id" grep NoNewPrivs /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1$ ]]
}

@test "exec --process FILE runs that process" {
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-process-json; pwd"], "cwd": "/etc", "env": ["PATH=/bin"]}
	JSON
	run husk exec --process "$TEST_TMP/process.json" "$EX"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-process-json ]
	[ "${lines[1]}" = /etc ]
}

@test "exec --detach --pid-file returns at once with the pid" {
	# the detached process keeps our stdout: do not wait for it to close
	husk exec -d --pid-file "$TEST_TMP/pid" "$EX" sleep 30 >/dev/null 2>&1
	pid=$(cat "$TEST_TMP/pid")
	[ -d "/proc/$pid" ]
	grep -q sleep "/proc/$pid/cmdline"
	kill -9 "$pid"
}

@test "concurrent execs all succeed" {
	for i in $(seq 10); do husk exec "$EX" sh -c "echo $i" >"$TEST_TMP/out.$i" & done
	wait
	for i in $(seq 10); do [ "$(cat "$TEST_TMP/out.$i")" = "$i" ]; done
}

@test "exec of a missing command, into a stopped or a missing container fails with the engine words" {
	run husk exec "$EX" nonexistent-cmd
	[ "$status" -ne 0 ]
	[[ "$output" == *'executable file not found in $PATH'* ]]
	husk kill "$EX" KILL
	sleep 0.3
	run husk exec "$EX" true
	[ "$status" -eq 255 ]
	[[ "$output" == *"container not running"* ]]
	run husk exec nosuch true
	[ "$status" -eq 255 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "exec with an LSM label fails clearly on a host without one" {
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "the host runs AppArmor"
	run husk exec --apparmor unconfined "$EX" true
	[ "$status" -eq 255 ]
	[[ "$output" == *'--apparmor: process.apparmorProfile: \"unconfined\" asks for AppArmor, which this host does not run'* ]]
}

@test "exec -p FILE and -c CAP are the short forms of --process and --cap" {
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "grep ^CapBnd /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"], "capabilities": {"bounding": ["CAP_CHOWN"]}}
	JSON
	run husk exec -p "$TEST_TMP/process.json" -c CAP_SYS_ADMIN "$EX"
	[ "$status" -eq 0 ]
	# CAP_CHOWN is bit 0, CAP_SYS_ADMIN bit 21
	[ "$output" = "CapBnd:	0000000000200001" ]
}

@test "exec --tty --console-socket: the process gets a pty whose master goes to the socket" {
	start_receiver
	run husk exec --tty --console-socket "$SOCK" "$EX" sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-ttys; exit 3'
	# the exit status still comes back through husk
	[ "$status" -eq 3 ]
	wait "$RECV_PID"
	RECV_PID=
	run tr -d '\r' <"$TEST_TMP/tty.out"
	[[ "${lines[0]}" =~ ^/dev/pts/[0-9]+$ ]]
	[ "${lines[1]}" = all-ttys ]
}

@test "exec --tty --console-socket --detach returns at once; the process runs on the pty" {
	start_receiver
	husk_nowait exec -t -d --console-socket "$SOCK" --pid-file "$TEST_TMP/tty.pid" "$EX" sh -c 'tty; sleep 0.5'
	pid=$(cat "$TEST_TMP/tty.pid")
	[ -d "/proc/$pid" ]
	wait "$RECV_PID"
	RECV_PID=
	[[ "$(tr -d '\r' <"$TEST_TMP/tty.out")" =~ ^/dev/pts/[0-9]+$ ]]
}

@test "exec --tty in the foreground without a socket: husk holds the pty and relays" {
	run husk exec --tty "$EX" sh -c 'tty; exit 5' </dev/null
	[ "$status" -eq 5 ]
	[[ "$(tr -d '\r' <<<"${lines[0]}")" =~ ^/dev/pts/[0-9]+$ ]]
}

@test "exec --tty --detach without a console socket is refused" {
	run husk exec --tty --detach "$EX" true
	[ "$status" -eq 255 ]
	[[ "$output" == *"--console-socket"* ]]
}

@test "exec --preserve-fds N passes fds 3..3+N-1 and no others" {
	echo three >"$TEST_TMP/f3"
	echo four >"$TEST_TMP/f4"
	echo five >"$TEST_TMP/f5"
	run husk exec --preserve-fds 2 "$EX" sh -c 'cat <&3; cat <&4; test -e /proc/self/fd/5 && echo fd5-leaked || echo no-fd5' \
		3<"$TEST_TMP/f3" 4<"$TEST_TMP/f4" 5<"$TEST_TMP/f5"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = three ]
	[ "${lines[1]}" = four ]
	[ "${lines[2]}" = no-fd5 ]
	# without the flag, not even fd 3
	run husk exec "$EX" sh -c 'test -e /proc/self/fd/3 && echo fd3-leaked || echo no-fd3' 3<"$TEST_TMP/f3"
	[ "$output" = no-fd3 ]
	run husk exec --preserve-fds x "$EX" true
	[ "$status" -ne 0 ]
	[[ "$output" == *'--preserve-fds: "x" is not a count of fds'* ]]
}

@test "exec exit codes: 0, 1, 42 and 128+signal pass through" {
	run husk exec "$EX" true
	[ "$status" -eq 0 ]
	run husk exec "$EX" false
	[ "$status" -eq 1 ]
	run husk exec "$EX" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run husk exec "$EX" sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run husk exec "$EX" sh -c 'kill -SEGV $$'
	[ "$status" -eq 139 ]
}

@test "exec --user UID alone keeps gid 0; --env replaces a variable of the config" {
	run husk exec --user 1234 --env PATH=/bin:/sbin --env NEW=1 "$EX" sh -c 'id -u; id -g; echo $PATH; echo $NEW'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1234 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = /bin:/sbin ]
	[ "${lines[3]}" = 1 ]
	run husk exec --user abc "$EX" true
	[ "$status" -ne 0 ]
	[[ "$output" == *'--user: \"abc\" is not UID[:GID]'* ]]
}

@test "exec errors: a missing --cwd, no command, an unreadable --process file" {
	run husk exec --cwd /no/such/dir "$EX" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/dir"* ]]
	run husk exec "$EX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"no command given"* ]]
	echo '{"args": [' >"$TEST_TMP/bad.json"
	run husk exec --process "$TEST_TMP/bad.json" "$EX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"bad.json"* ]]
	# none of them left a process behind
	[ "$(husk ps --format json "$EX" | jq length)" -eq 1 ]
}
