#!/usr/bin/env bats
# process.terminal with --console-socket, via tests/tools/recvtty.

load helpers

RECVTTY=${HUSK_BUILDDIR}/tests/tools/recvtty

setup() {
	require_root
	setup_common
	[ -x "$RECVTTY" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	make_bundle "$BUNDLE"
	update_config "$BUNDLE" '.process.terminal = true'
	SOCK=$TEST_TMP/console.sock
}

teardown() {
	[ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
	teardown_common
}

# start_receiver [INPUT]: recvtty in the background, its output in
# $TEST_TMP/tty.out; returns once it listens.
start_receiver() {
	"$RECVTTY" "$SOCK" "$@" >"$TEST_TMP/tty.out" 2>"$TEST_TMP/recv.err" &
	RECV_PID=$!
	local i
	for i in $(seq 100); do
		grep -q ready "$TEST_TMP/recv.err" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TEST_TMP/recv.err" >&2
	return 1
}

# run_tty SCRIPT: create+start with the console socket, wait for the
# container to finish and the receiver to drain the pty.
run_tty() {
	local id
	id=$(ctr_id tty)
	set_args "$BUNDLE" /bin/sh -c "$1"
	start_receiver
	husk_nowait create -b "$BUNDLE" --console-socket "$SOCK" "$id"
	husk start "$id"
	wait_for_status "$id" stopped
	local rc=0
	wait "$RECV_PID" || rc=$?
	RECV_PID=
	[ "$rc" -eq 0 ]
	tr -d '\r' <"$TEST_TMP/tty.out"
}

@test "the process gets a pty as its terminal" {
	run run_tty 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-ttys'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^/dev/pts/[0-9]+$ ]]
	[ "${lines[1]}" = all-ttys ]
}

@test "a non-root process owns its pty, in the devpts group, as with runc" {
	update_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1000}'
	run run_tty 'stat -c "%u:%g %a" "$(tty)"; echo written >"$(tty)"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000:5 620" ]
	[ "${lines[1]}" = written ]
}

@test "consoleSize sets the window size" {
	update_config "$BUNDLE" '.process.consoleSize = {"height": 25, "width": 80}'
	run run_tty 'stty size'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "25 80" ]
}

@test "/dev/console is the pty" {
	run run_tty 'test -c /dev/console && echo console; stat -c %t /dev/console; stat -c %t "$(tty)"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = console ]
	[ "${lines[1]}" = "${lines[2]}" ]
}

@test "input written to the pty master reaches the process" {
	local id
	id=$(ctr_id ttyin)
	set_args "$BUNDLE" /bin/sh -c 'read line; echo "got:$line"'
	start_receiver $'hello\n'
	husk_nowait create -b "$BUNDLE" --console-socket "$SOCK" "$id"
	husk start "$id"
	wait_for_status "$id" stopped
	wait "$RECV_PID"
	RECV_PID=
	grep -q "got:hello" "$TEST_TMP/tty.out"
}

@test "terminal without --console-socket fails create clearly" {
	local id
	id=$(ctr_id notty)
	run husk_nowait create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"console-socket"* ]]
	assert_nothing_left "$id"
}

@test "a console socket nobody listens on fails create clearly" {
	local id
	id=$(ctr_id nolisten)
	run husk_nowait create -b "$BUNDLE" --console-socket "$TEST_TMP/nobody.sock" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"nobody.sock"* ]]
	assert_nothing_left "$id"
}

@test "run in the foreground holds the pty itself and relays its output" {
	set_args "$BUNDLE" /bin/sh -c 'tty; exit 4'
	run husk run -b "$BUNDLE" "$(ctr_id fgtty)" </dev/null
	[ "$status" -eq 4 ]
	[[ "$(tr -d '\r' <<<"${lines[0]}")" =~ ^/dev/pts/[0-9]+$ ]]
}
