#!/usr/bin/env bats
# Idmapped bind mounts (mounts[].uidMappings / gidMappings).

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	mkdir -p "$TEST_TMP/src"
	echo data >"$TEST_TMP/src/file"
	chown 1000:1000 "$TEST_TMP/src/file"
}

teardown() {
	teardown_common
}

@test "an idmapped bind mount shows the source's owners through the mapping" {
	update_config "$BUNDLE" '.process.args = ["sh", "-c", "stat -c %u:%g /data/file; cat /data/file"]
		| .mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 10}],
			"gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 10}]}]'
	run husk run -b "$BUNDLE" idm
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2000:3000" ]
	[ "${lines[1]}" = data ]
	# the source itself is unchanged
	[ "$(stat -c %u:%g "$TEST_TMP/src/file")" = "1000:1000" ]
}

@test "idmapped mounts work in a container with its own user namespace" {
	# the container's root (host uid 100000) must be able to reach the rootfs
	chmod 755 "$TEST_TMP"
	# and cannot create the mount point in a rootfs owned by the host's root
	mkdir "$BUNDLE/rootfs/data"
	update_config "$BUNDLE" '.process.args = ["stat", "-c", "%u:%g", "/data/file"]
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": [{"containerID": 1000, "hostID": 100005, "size": 1}],
			"gidMappings": [{"containerID": 1000, "hostID": 100007, "size": 1}]}]'
	run husk run -b "$BUNDLE" idm2
	[ "$status" -eq 0 ]
	[ "$output" = "5:7" ]
}

@test "uidMappings on a non-bind mount are refused" {
	update_config "$BUNDLE" '.mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs",
			"uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
			"gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}]'
	run husk create -b "$BUNDLE" idm3
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[7]: uidMappings need a bind mount"* ]]
	[ ! -e "$HUSK_ROOT/idm3" ]
}

# many_maps N HOSTBASE: a JSON array of N one-id mappings.
many_maps() {
	jq -cn --argjson n "$1" --argjson h "$2" \
		'[range($n) | {"containerID": ., "hostID": ($h + .), "size": 1}]'
}

@test "an idmapped mount with 2000 uidMappings fails naming the field, no crash, nothing left" {
	id=$(ctr_id idmbig)
	update_config "$BUNDLE" '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": '"$(many_maps 2000 4000000000)"',
			"gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}]'
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[7].uidMappings: 2000 entries, at most 340"* ]]
	assert_nothing_left "$id"
}

@test "an idmapped mount with 340 mappings runs (the kernel's most)" {
	update_config "$BUNDLE" '.process.args = ["stat", "-c", "%u:%g", "/data/file"]
		| .mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": [range(340) | {"containerID": (1000 + .), "hostID": (2000 + .), "size": 1}],
			"gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 1}]}]'
	run husk run -b "$BUNDLE" "$(ctr_id idm340)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "2000:3000" ]
}

@test "idmapped mount mappings longer than a page fail naming the field, no crash" {
	id=$(ctr_id idmlong)
	# 300 lines of 17 bytes: more than the kernel takes in one write, and than the old 4096-byte buffer
	update_config "$BUNDLE" '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}],
			"gidMappings": '"$(many_maps 300 4000000000)"'}]'
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[7].gidMappings"*"4095"* ]]
	assert_nothing_left "$id"
}

@test "linux.uidMappings with 2000 entries fails naming the field, nothing left" {
	id=$(ctr_id usrbig)
	chmod 755 "$TEST_TMP"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = '"$(many_maps 2000 100000)"'
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.uidMappings: 2000 entries, at most 340"* ]]
	assert_nothing_left "$id"
}

@test "linux.gidMappings whose lines overflow a page fail naming the field" {
	id=$(ctr_id usrlong)
	chmod 755 "$TEST_TMP"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = '"$(many_maps 300 4000000000)"''
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.gidMappings"* ]]
	[[ "$output" == *"4095"* ]]
	assert_nothing_left "$id"
}

DENY_SYSCALL=${HUSK_BUILDDIR}/tests/tools/deny-syscall

idmap_one_entry() {
	update_config "$BUNDLE" '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'",
			"options": ["bind"],
			"uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}],
			"gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 1}]}]'
}

@test "a failed unshare for an idmapped mount is reported as itself, at once" {
	[ -x "$DENY_SYSCALL" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	id=$(ctr_id idmuns)
	idmap_one_entry
	# EINVAL: an errno no uid_map write gives here
	run "$DENY_SYSCALL" unshare-user 22 "$HUSK_BIN" --root "$HUSK_ROOT" create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[7]: unshare a user namespace for the mapping: Invalid argument"* ]]
	assert_nothing_left "$id"
}

@test "a failed fork for an idmapped mount is reported naming the mount" {
	[ -x "$DENY_SYSCALL" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	id=$(ctr_id idmfork)
	idmap_one_entry
	run "$DENY_SYSCALL" fork 11 "$HUSK_BIN" --root "$HUSK_ROOT" create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[7]: fork the mapping namespace's process: Resource temporarily unavailable"* ]]
	assert_nothing_left "$id"
}
