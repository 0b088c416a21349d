#!/usr/bin/env bats
# linux.sysctl changes only what the container has its own copy of: ipc
# keys (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) with an ipc
# namespace, net.* with a network namespace, kernel.hostname and
# kernel.domainname with a uts namespace. Anything else would be the host
# kernel's value and is refused, naming the key, before anything is made.
#
# Every refused case writes the host's current value, so that even a husk
# that wrongly accepted it would leave the host as it was.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
}

teardown() {
	teardown_common
}

drop_ns() { # TYPE
	update_config "$BUNDLE" ".linux.namespaces |= map(select(.type != \"$1\"))"
}

refused() { # KEY
	local id
	id=$(ctr_id "sc$RANDOM")
	run husk_nowait create --bundle "$BUNDLE" "$id"
	echo "$status $output"
	[ "$status" -ne 0 ]
	# (the log line escapes the quotes)
	[[ "$output" == *"linux.sysctl: \\\"$1\\\" "* ]]
	assert_nothing_left "$id"
}

@test "a sysctl that is not namespaced is refused naming the key (kernel.core_pattern, vm.*, kernel.pid_max)" {
	local key file before
	for key in kernel.core_pattern vm.swappiness kernel/pid_max; do
		file=/proc/sys/${key//.//}
		before=$(cat "$file")
		update_config "$BUNDLE" ".linux.sysctl = {\"$key\": $(jq -n --arg v "$before" '$v')}"
		refused "$key"
		[[ "$output" == *"is not namespaced"* ]]
		[ "$(cat "$file")" = "$before" ]
	done
}

@test "net.* needs the container's own network namespace" {
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	drop_ns network
	update_config "$BUNDLE" ".linux.sysctl = {\"net.ipv4.ip_forward\": \"$before\"}"
	refused net.ipv4.ip_forward
	[[ "$output" == *"needs the container's own network namespace"* ]]
}

@test "ipc sysctls need the container's own ipc namespace" {
	local key before
	drop_ns ipc
	for key in kernel.shmmax kernel.msgmax kernel.sem fs.mqueue.msg_max; do
		before=$(cat "/proc/sys/${key//.//}")
		update_config "$BUNDLE" ".linux.sysctl = {\"$key\": $(jq -n --arg v "$before" '$v')}"
		refused "$key"
		[[ "$output" == *"needs the container's own ipc namespace"* ]]
	done
}

@test "kernel.hostname needs the container's own uts namespace" {
	drop_ns uts
	update_config "$BUNDLE" 'del(.hostname) | del(.domainname)'
	update_config "$BUNDLE" ".linux.sysctl = {\"kernel.hostname\": \"$(cat /proc/sys/kernel/hostname)\"}"
	refused kernel.hostname
	[[ "$output" == *"needs the container's own uts namespace"* ]]
}

@test "namespaced sysctls are set in the container's own namespaces" {
	update_config "$BUNDLE" '.linux.sysctl = {"kernel.hostname": "sysbox", "kernel.msgmax": "12345",
		"kernel.sem": "250 32000 32 129", "fs.mqueue.msg_max": "17", "net/ipv4/ip_forward": "1"}'
	run_sh "$BUNDLE" 'cat /proc/sys/kernel/hostname /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/sem'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = sysbox ]
	[ "${lines[1]}" = 12345 ]
	[ "${lines[2]}" = 17 ]
	[ "${lines[3]}" = 1 ]
	[[ "${lines[4]}" == "250"*"32000"*"32"*"129" ]]
	[ "$(cat /proc/sys/kernel/hostname)" != sysbox ]
}
