#!/usr/bin/env bats
# Every way create can fail: a clear error, and nothing left behind (no state
# dir, no cgroup, no process, no pid file).

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	ID=$(ctr_id fail)
	MARKER="marker-${TEST_TMP##*.}"
	set_args "$BUNDLE" /bin/sh -c "exec sleep 100 # $MARKER"
}

teardown() {
	teardown_common
}

# create_fails PATTERN: create fails, says PATTERN, and leaves nothing;
# with --log-format json the log's last line is that error (what engines
# show their users).
create_fails() {
	run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *$1* ]]
	assert_nothing_left "$ID" "$MARKER" "$TEST_TMP/pid"
	[ -z "$(husk list -q)" ]
	run husk_nowait --log "$TEST_TMP/log.json" --log-format json \
		create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	[ "$status" -ne 0 ]
	local last
	last=$(tail -n 1 "$TEST_TMP/log.json")
	echo "last log line: $last"
	[ "$(jq -r .level <<<"$last")" = error ]
	[[ "$(jq -r .msg <<<"$last")" == *$1* ]]
	jq -e . "$TEST_TMP/log.json" >/dev/null
	assert_nothing_left "$ID" "$MARKER" "$TEST_TMP/pid"
}

@test "bad config JSON" {
	echo '{"ociVersion": "1.2.0", "process": ' >"$BUNDLE/config.json"
	create_fails "config.json"
}

@test "a config with a wrong type names the JSON path" {
	update_config "$BUNDLE" '.process.args = [1]'
	create_fails "process.args"
}

@test "missing rootfs" {
	update_config "$BUNDLE" '.root.path = "no-such-rootfs"'
	create_fails "no-such-rootfs"
}

@test "a mount of an unknown filesystem type" {
	update_config "$BUNDLE" '.mounts += [{"destination": "/mnt", "type": "nosuchfs", "source": "x"}]'
	create_fails "/mnt"
}

@test "a bind mount of a missing source" {
	update_config "$BUNDLE" '.mounts += [{"destination": "/mnt", "type": "bind", "source": "'"$TEST_TMP"'/missing", "options": ["bind"]}]'
	create_fails "missing"
}

@test "a failing prestart hook" {
	update_config "$BUNDLE" '.hooks.prestart = [{"path": "/bin/false"}]'
	create_fails "/bin/false"
}

@test "a failing createContainer hook" {
	update_config "$BUNDLE" '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]'
	create_fails "status 4"
}

@test "a bad namespace path" {
	update_config "$BUNDLE" '(.linux.namespaces[] | select(.type == "network")) .path = "/no/such/netns"'
	create_fails "/no/such/netns"
}

@test "a missing cwd" {
	update_config "$BUNDLE" '.process.cwd = "/no/such/dir"'
	create_fails "/no/such/dir"
}

@test "a missing executable" {
	set_args "$BUNDLE" /no/such/binary "$MARKER"
	create_fails "/no/such/binary"
}

@test "terminal without a console socket" {
	update_config "$BUNDLE" '.process.terminal = true'
	create_fails "console-socket"
}

@test "a pid file in a missing directory" {
	run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/nodir/pid" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"pid-file"* ]]
	assert_nothing_left "$ID" "$MARKER"
}

@test "a bad process setting (scheduler policy)" {
	update_config "$BUNDLE" '.process.scheduler = {"policy": "SCHED_NOPE"}'
	create_fails "process.scheduler.policy"
}

@test "a sysctl the kernel does not have" {
	update_config "$BUNDLE" '.linux.sysctl = {"net.no.such.key": "1"}'
	create_fails "net.no.such.key"
}

@test "a device of an unknown type" {
	update_config "$BUNDLE" '.linux.devices = [{"path": "/dev/x", "type": "z", "major": 1, "minor": 3}]'
	create_fails "linux.devices?0?.type:*z*is not c, b, u or p"
}
