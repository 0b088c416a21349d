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

# create_fails PATTERN: create fails, says PATTERN, and leaves nothing.
create_fails() {
	run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *$1* ]]
	assert_nothing_left "$ID" "$MARKER" "$TEST_TMP/pid"
	[ -z "$(husk list -q)" ]
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
