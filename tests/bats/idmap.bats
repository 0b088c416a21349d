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
