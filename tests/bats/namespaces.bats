#!/usr/bin/env bats
# Each namespace kind, new and joined by path.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
}

teardown() {
	[ -n "${NETNS:-}" ] && ip netns delete "$NETNS" 2>/dev/null
	teardown_common
}

# ns_file TYPE: the name in /proc/self/ns for a spec namespace type
ns_file() {
	case $1 in
	network) echo net ;;
	mount) echo mnt ;;
	*) echo "$1" ;;
	esac
}

@test "each namespace in the config is new: the ns links differ from the host's" {
	local type file
	update_config "$BUNDLE" '(if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type": "cgroup"}] end)'
	for type in pid network ipc uts mount cgroup; do
		file=$(ns_file "$type")
		run_sh "$BUNDLE" "readlink /proc/self/ns/$file"
		[ "$status" -eq 0 ]
		[[ "$output" == "$file:["* ]]
		[ "$output" != "$(readlink /proc/self/ns/"$file")" ]
	done
}

@test "a namespace left out of the config is the host's" {
	local type file
	# the cgroup mount stays: without a cgroup namespace it binds the
	# container's own cgroups (mounts.bats)
	update_config "$BUNDLE" 'del(.hostname)'
	for type in network ipc uts cgroup; do
		update_config "$BUNDLE" "del(.linux.namespaces[] | select(.type == \"$type\"))"
	done
	for file in net ipc uts cgroup; do
		run_sh "$BUNDLE" "readlink /proc/self/ns/$file"
		[ "$status" -eq 0 ]
		[ "$output" = "$(readlink /proc/self/ns/"$file")" ]
	done
}

@test "joining a network namespace by path (ip netns)" {
	command -v ip >/dev/null || skip "iproute2 is not installed"
	NETNS="husk-${TEST_TMP##*.}"
	ip netns add "$NETNS"
	local want
	want=$(ip netns exec "$NETNS" readlink /proc/self/ns/net)
	update_config "$BUNDLE" "(.linux.namespaces[] | select(.type == \"network\")).path = \"/run/netns/$NETNS\""
	run_sh "$BUNDLE" 'readlink /proc/self/ns/net'
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
}

# runc and crun bring the loopback up in a network namespace they make;
# programs in the container expect 127.0.0.1 to answer. A joined one is
# its owner's: left as it is.
@test "a new network namespace has lo up; a joined one keeps lo as its owner left it" {
	# IFF_UP is bit 0 of /sys/class/net/lo/flags (0x9 up, 0x8 down)
	run_sh "$BUNDLE" 'cat /sys/class/net/lo/flags'
	echo "$output"
	[ "$status" -eq 0 ]
	[ $((output & 1)) -eq 1 ]
	command -v ip >/dev/null || skip "iproute2 is not installed"
	NETNS="husk-${TEST_TMP##*.}"
	ip netns add "$NETNS"
	update_config "$BUNDLE" "(.linux.namespaces[] | select(.type == \"network\")).path = \"/run/netns/$NETNS\""
	run_sh "$BUNDLE" 'cat /sys/class/net/lo/flags'
	echo "$output"
	[ "$status" -eq 0 ]
	[ $((output & 1)) -eq 0 ]
}

@test "joining the namespaces of another container by /proc/PID/ns" {
	local first pid type file want
	first=$(ctr_id first)
	set_args "$BUNDLE" sleep 100
	husk_nowait run --detach -b "$BUNDLE" "$first"
	pid=$(husk state "$first" | jq .pid)
	cp -a "$BUNDLE" "$TEST_TMP/second"
	for type in network ipc uts; do
		file=$(ns_file "$type")
		update_config "$TEST_TMP/second" "(.linux.namespaces[] | select(.type == \"$type\")).path = \"/proc/$pid/ns/$file\""
	done
	run_sh "$TEST_TMP/second" 'for n in net ipc uts; do readlink /proc/self/ns/$n; done'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/"$pid"/ns/net)" ]
	[ "${lines[1]}" = "$(readlink /proc/"$pid"/ns/ipc)" ]
	[ "${lines[2]}" = "$(readlink /proc/"$pid"/ns/uts)" ]
}

@test "a namespace path that does not exist fails clearly" {
	update_config "$BUNDLE" '(.linux.namespaces[] | select(.type == "ipc")).path = "/no/such/ns"'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/ns"* ]]
}

@test "a namespace path of the wrong type fails clearly" {
	update_config "$BUNDLE" '(.linux.namespaces[] | select(.type == "network")).path = "/proc/self/ns/ipc"'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"/proc/self/ns/ipc"* ]]
	[[ "$output" == *network* ]]
	# not a namespace at all
	update_config "$BUNDLE" '(.linux.namespaces[] | select(.type == "network")).path = "/etc/hostname"'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"/etc/hostname"* ]]
}

@test "an unknown namespace type is rejected" {
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "frob"}]'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *frob* ]]
}

@test "a user namespace with uid and gid mappings" {
	[ -e /proc/self/ns/user ] || skip "no user namespaces"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	chown -R 100000:200000 "$BUNDLE/rootfs"
	# the mapped root must be able to reach the rootfs
	chmod 755 "$TEST_TMP" "$BUNDLE"
	run_sh "$BUNDLE" 'cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +200000\ +65536$ ]]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/user)" ]
}

@test "a time namespace with timeOffsets" {
	[ -e /proc/self/ns/time ] || skip "the kernel has no time namespaces"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0},
		                        "boottime": {"secs": 172800, "nanosecs": 0}}'
	local host_up
	host_up=$(cut -d. -f1 /proc/uptime)
	run_sh "$BUNDLE" 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time'
	[ "$status" -eq 0 ]
	[[ "$output" == *"monotonic"*86400* ]]
	[[ "$output" == *"boottime"*172800* ]]
	# /proc/uptime follows the boottime offset
	[ "${lines[2]}" -ge $((host_up + 172800)) ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/time)" ]
}

@test "timeOffsets without a time namespace fails clearly" {
	update_config "$BUNDLE" '.linux.timeOffsets = {"monotonic": {"secs": 1, "nanosecs": 0}}'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *timeOffsets* ]]
}

@test "the container's cgroup is the root of its cgroup namespace" {
	update_config "$BUNDLE" '(if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type": "cgroup"}] end)'
	set_args "$BUNDLE" cat /proc/self/cgroup
	run husk run -b "$BUNDLE" "$(ctr_id cgns)"
	[ "$status" -eq 0 ]
	# every hierarchy shows "/": the namespace was made inside the cgroup
	[ -n "$output" ]
	[ -z "$(echo "$output" | grep -v ':/$')" ]
}

@test "joining the pid namespace of another container by path: its processes are visible" {
	local first pid
	first=$(ctr_id pidfirst)
	set_args "$BUNDLE" sleep 101
	husk_nowait run --detach -b "$BUNDLE" "$first"
	pid=$(husk state "$first" | jq .pid)
	update_config "$BUNDLE" "(.linux.namespaces[] | select(.type == \"pid\")).path = \"/proc/$pid/ns/pid\""
	run_sh "$BUNDLE" 'readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/"$pid"/ns/pid)" ]
	# pid 1 of that namespace is the first container's init
	[ "${lines[1]}" = "sleep 101 " ]
}

@test "joining the user namespace of another container by path keeps its mappings" {
	[ -e /proc/self/ns/user ] || skip "no user namespaces"
	local first pid
	first=$(ctr_id userfirst)
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$TEST_TMP" "$BUNDLE"
	set_args "$BUNDLE" sleep 100
	husk_nowait run --detach -b "$BUNDLE" "$first"
	pid=$(husk state "$first" | jq .pid)
	update_config "$BUNDLE" "(.linux.namespaces[] | select(.type == \"user\")).path = \"/proc/$pid/ns/user\"
		| del(.linux.uidMappings, .linux.gidMappings)"
	run_sh "$BUNDLE" 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/"$pid"/ns/user)" ]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[ "${lines[2]}" = 0 ]
}

@test "hostname or domainname without a uts namespace fails clearly" {
	update_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "uts")) | .hostname = "box"'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"hostname"*"uts namespace"* ]]
	update_config "$BUNDLE" 'del(.hostname) | .domainname = "example.org"'
	run_sh "$BUNDLE" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"domainname: setting it needs a uts namespace"* ]]
	[ "$(hostname)" != box ]
}
