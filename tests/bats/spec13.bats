#!/usr/bin/env bats
# runtime-spec 1.3 on Linux: linux.memoryPolicy, linux.netDevices and
# linux.intelRdt, and what `features` says of them.

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

# mempolicy JSON: set linux.memoryPolicy
mempolicy() {
	update_config "$BUNDLE" ".linux.memoryPolicy = $1"
}

# The policy of the container's own stack mapping, as numa_maps prints it
# (the process's policy: no mbind in busybox).
STACK_POLICY="sed -n 's/^[0-9a-f]* \\(.*\\) stack.*/\\1/p' /proc/self/numa_maps"

@test "memoryPolicy: every mode reads back from the container process's numa_maps" {
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA support (no /proc/self/numa_maps)"
	local mode want
	for mode in MPOL_BIND:bind:0 MPOL_INTERLEAVE:interleave:0 MPOL_PREFERRED:prefer:0 \
		MPOL_PREFERRED_MANY:prefer\ \(many\):0 MPOL_WEIGHTED_INTERLEAVE:weighted\ interleave:0; do
		want=${mode#*:}
		mempolicy "{\"mode\": \"${mode%%:*}\", \"nodes\": \"0\"}"
		run_sh "$BUNDLE" "$STACK_POLICY"
		[ "$status" -eq 0 ]
		[ "$output" = "$want" ]
	done
	mempolicy '{"mode": "MPOL_LOCAL"}'
	run_sh "$BUNDLE" "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = local ]
	mempolicy '{"mode": "MPOL_DEFAULT"}'
	run_sh "$BUNDLE" "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = default ]
	# and without memoryPolicy the process keeps the default too
	update_config "$BUNDLE" 'del(.linux.memoryPolicy)'
	run_sh "$BUNDLE" "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = default ]
}

@test "memoryPolicy: the flags read back, and the policy survives into children" {
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA support (no /proc/self/numa_maps)"
	mempolicy '{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
	run_sh "$BUNDLE" "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = "bind=static:0" ]
	mempolicy '{"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]}'
	run_sh "$BUNDLE" "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = "interleave=relative:0" ]
	mempolicy '{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}'
	# a child of the process (sh forks awk) has it as well
	echo "$STACK_POLICY" >"$BUNDLE/rootfs/policy"
	run_sh "$BUNDLE" "grep Mems_allowed_list /proc/self/status; sh /policy"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Mems_allowed_list:	$(awk '/Mems_allowed_list/ {print $2}' /proc/self/status)" ]
	[ "${lines[1]}" = "bind=balancing:0" ]
}

@test "memoryPolicy: a bad mode, flag or node list is a clear error naming it, leaving nothing" {
	local id=$(ctr_id badmp) policy want
	set_args "$BUNDLE" /bin/true
	while IFS='|' read -r policy want; do
		mempolicy "$policy"
		run husk run -b "$BUNDLE" "$id"
		echo "$policy: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"$want"* ]]
		assert_nothing_left "$id"
	done <<-'EOF2'
	{"mode": "MPOL_MOST"}|linux.memoryPolicy.mode: unknown mode \"MPOL_MOST\"
	{"nodes": "0"}|linux.memoryPolicy
	{"mode": "MPOL_BIND"}|linux.memoryPolicy.nodes: MPOL_BIND needs at least one node
	{"mode": "MPOL_INTERLEAVE", "nodes": ""}|linux.memoryPolicy.nodes: MPOL_INTERLEAVE needs at least one node
	{"mode": "MPOL_DEFAULT", "nodes": "0"}|linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes
	{"mode": "MPOL_LOCAL", "nodes": "0"}|linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes
	{"mode": "MPOL_LOCAL", "flags": ["MPOL_F_STATIC_NODES"]}|linux.memoryPolicy.flags: MPOL_LOCAL takes no flags
	{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_LOUD"]}|linux.memoryPolicy.flags[0]: unknown flag \"MPOL_F_LOUD\"
	{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}|exclude each other
	{"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}|MPOL_F_NUMA_BALANCING goes only with MPOL_BIND
	{"mode": "MPOL_BIND", "nodes": "0-"}|linux.memoryPolicy.nodes: \"0-\" is not a node list
	{"mode": "MPOL_BIND", "nodes": "3-1"}|linux.memoryPolicy.nodes: \"3-1\" is not a node list
	{"mode": "MPOL_BIND", "nodes": "0,,1"}|is not a node list
	{"mode": "MPOL_BIND", "nodes": "1024"}|linux.memoryPolicy.nodes: \"1024\" is not a node list (like 0-3,7, nodes below 1024)
	{"mode": "MPOL_BIND", "nodes": "99999999999999999999999"}|is not a node list
	{"mode": "MPOL_BIND", "nodes": "0-4294967296000"}|is not a node list
	{"mode": "MPOL_BIND", "nodes": "1023"}|linux.memoryPolicy.nodes: node 1023 is not online on this host
	EOF2
}

@test "memoryPolicy: static nodes none of which the container may use fail create at set_mempolicy" {
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA support (no /proc/self/numa_maps)"
	local id=$(ctr_id staticmp)
	[ ! -e /sys/devices/system/node/node1000 ] || skip "this host has a node 1000"
	mempolicy '{"mode": "MPOL_BIND", "nodes": "1000", "flags": ["MPOL_F_STATIC_NODES"]}'
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.memoryPolicy: set_mempolicy(MPOL_BIND, nodes \"1000\"): Invalid argument'* ]]
	assert_nothing_left "$id"
}
