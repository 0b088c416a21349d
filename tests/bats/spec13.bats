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
	[ -n "${CHURN_PID:-}" ] && kill "$CHURN_PID" 2>/dev/null && wait "$CHURN_PID" 2>/dev/null
	[ -n "${NETNS:-}" ] && ip netns delete "$NETNS" 2>/dev/null
	[ -n "${NETNS:-}" ] && ip netns delete "$NETNS-ctr" 2>/dev/null
	teardown_common
}

# mempolicy JSON: set linux.memoryPolicy
mempolicy() {
	update_config "$BUNDLE" ".linux.memoryPolicy = $1"
}

# The policy of the container's own stack mapping, as numa_maps prints it
# (the process's policy: no mbind in busybox).
STACK_POLICY="sed -n 's/^[0-9a-f]* \\(.*\\) stack.*/\\1/p' /proc/self/numa_maps"

# kernel_at_least MAJOR MINOR
kernel_at_least() {
	local v=$(uname -r) major minor
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	[ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}

@test "memoryPolicy: every mode reads back from the container process's numa_maps" {
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA support (no /proc/self/numa_maps)"
	local mode want modes=("MPOL_BIND:bind:0" "MPOL_INTERLEAVE:interleave:0" "MPOL_PREFERRED:prefer:0")
	# the newer modes where the kernel has them (5.15, 6.9); the others still run
	if kernel_at_least 5 15; then modes+=("MPOL_PREFERRED_MANY:prefer (many):0"); fi
	if kernel_at_least 6 9; then
		modes+=("MPOL_WEIGHTED_INTERLEAVE:weighted interleave:0")
	else
		echo "# kernel $(uname -r): MPOL_WEIGHTED_INTERLEAVE not tried" >&3
	fi
	for mode in "${modes[@]}"; do
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
	kernel_at_least 5 12 || skip "MPOL_F_NUMA_BALANCING needs Linux 5.12 (this is $(uname -r))"
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

@test "memoryPolicy: a process exec starts has the container's policy (as runc 1.4), its children too" {
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA support (no /proc/self/numa_maps)"
	local id=$(ctr_id execmp)
	mempolicy '{"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]}'
	echo "$STACK_POLICY" >"$BUNDLE/rootfs/policy"
	set_args "$BUNDLE" sleep 1000
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec "$id" sh -c "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = "prefer=relative:0" ]
	# a child of the exec'd process (sh runs sh)
	run husk exec "$id" sh -c 'sh /policy'
	[ "$status" -eq 0 ]
	[ "$output" = "prefer=relative:0" ]
	husk delete --force "$id"
	# another policy, and none: exec follows the config, never husk's own
	mempolicy '{"mode": "MPOL_INTERLEAVE", "nodes": "0"}'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec "$id" sh -c "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = "interleave:0" ]
	husk delete --force "$id"
	update_config "$BUNDLE" 'del(.linux.memoryPolicy)'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec "$id" sh -c "$STACK_POLICY"
	[ "$status" -eq 0 ]
	[ "$output" = default ]
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
	{"mode": "MPOL_BIND", "nodes": "0\n1"}|linux.memoryPolicy.nodes: \"0
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

# A network namespace of the test's own, holding the devices it moves:
# husk runs in it (nsenter --net: the mounts stay the host's), so the
# host's interfaces are never touched.
make_netns() {
	command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
	NETNS=husk-t-${TEST_TMP##*.}
	ip netns add "$NETNS"
	in_netns ip link add v0 type veth peer name v0p || skip "this kernel has no veth interfaces"
	in_netns ip addr add 10.9.8.7/24 dev v0
	in_netns ip -6 addr add fd00::7/64 dev v0 nodad
	in_netns ip link set v0 up
}

in_netns() {
	ip netns exec "$NETNS" "$@"
}

# husk in the test's network namespace
husk_ns() {
	nsenter --net="/run/netns/$NETNS" "$HUSK_BIN" --root "$HUSK_ROOT" "$@"
}

netdevices() {
	update_config "$BUNDLE" ".linux.netDevices = $1"
}

# wait_gone DEV: the device leaves the test's namespace (the kernel frees a
# network namespace, and destroys its virtual devices, in the background)
wait_gone() {
	local i
	for i in $(seq 100); do
		in_netns ip link show "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	echo "$1 is still in $NETNS" >&2
	return 1
}

@test "netDevices: a veth end moves in renamed, up, with its addresses; delete lets the kernel destroy it" {
	make_netns
	local id=$(ctr_id netdev)
	netdevices '{"v0": {"name": "ctr0"}}'
	set_args "$BUNDLE" /bin/sh -c 'ip -o link show ctr0; ip -o addr show ctr0; ls /sys/class/net'
	husk_ns create -b "$BUNDLE" "$id" </dev/null >"$TEST_TMP/ctr.out" 2>&1
	# moved at create, before the process runs: gone from the test's namespace
	run in_netns ip link show v0
	[ "$status" -ne 0 ]
	husk start "$id"
	wait_for_status "$id" stopped
	cat "$TEST_TMP/ctr.out"
	grep -q '^[0-9]*: ctr0@.*[<,]UP[,>]' "$TEST_TMP/ctr.out"
	grep -q 'inet 10.9.8.7/24 .*scope global ctr0' "$TEST_TMP/ctr.out"
	grep -q 'inet6 fd00::7/64 scope global' "$TEST_TMP/ctr.out"
	[ "$(grep -cx 'ctr0\|lo' "$TEST_TMP/ctr.out")" -eq 2 ]
	husk delete "$id"
	# a virtual device dies with the namespace, and its peer with it
	wait_gone v0p
	run in_netns ip link show v0
	[ "$status" -ne 0 ]
}

@test "netDevices: without a name the host's is kept; a name with %d gets its number from the kernel" {
	make_netns
	in_netns ip link add v1 type veth peer name v1p
	netdevices '{"v0": {}, "v1": {"name": "eth%d"}}'
	set_args "$BUNDLE" /bin/sh -c 'ls /sys/class/net'
	husk_ns run -b "$BUNDLE" "$(ctr_id netdevname)" </dev/null >"$TEST_TMP/out" 2>&1
	cat "$TEST_TMP/out"
	[ "$(sort "$TEST_TMP/out" | tr '\n' ' ')" = "eth0 lo v0 " ]
}

# A container joining a network namespace that others use: links come and
# go there while the device moves in. husk once took "the one link the
# namespace did not have before" for the moved device, so a link made at
# that moment could be the one set up and given the addresses.
@test "netDevices: into a joined namespace where links come and go, the moved device is the one set up" {
	make_netns
	local i id
	ip netns add "$NETNS-ctr"
	ip netns exec "$NETNS-ctr" sh -c 'while :; do for i in 0 1 2 3 4 5 6 7; do
		ip link add churn$i type dummy 2>/dev/null; ip link del churn$i 2>/dev/null; done; done' &
	CHURN_PID=$!
	update_config "$BUNDLE" '.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/'"$NETNS-ctr"'" else . end)'
	set_args "$BUNDLE" /bin/true
	for i in 1 2 3 4 5; do
		id=$(ctr_id "netjoin$i")
		in_netns ip link add "w$i" type veth peer name "w${i}p"
		in_netns ip addr add "10.9.9.$i/24" dev "w$i"
		netdevices '{"w'"$i"'": {"name": "ctr'"$i"'"}}'
		husk_ns create -b "$BUNDLE" "$id" </dev/null
		# the address went with the device, and nowhere else
		run ip netns exec "$NETNS-ctr" ip -o addr show to "10.9.9.$i/32"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | awk '{print $2}')" = "ctr$i" ]
		run ip netns exec "$NETNS-ctr" ip -o link show "ctr$i"
		echo "$output"
		[[ "$output" == *"<"*UP*">"* ]]
		# the namespace outlives the container: the device stays in it
		husk delete --force "$id"
	done
}

@test "netDevices: a device that does not exist is a clear error naming it; nothing moves or is left" {
	make_netns
	local id=$(ctr_id nodev)
	netdevices '{"v0": {"name": "ctr0"}, "nope0": {}}'
	run husk_ns run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.netDevices: device \"nope0\" does not exist in the runtime'* ]]
	assert_nothing_left "$id"
	# the one that exists stayed, as it was
	run in_netns ip -o addr show v0
	[[ "$output" == *"inet 10.9.8.7/24"* ]]
}

@test "netDevices: the loopback, a bridge port, a name taken twice, bad names and no network namespace are refused" {
	make_netns
	local id=$(ctr_id badnetdev) devs want
	in_netns ip link add v1 type veth peer name v1p
	in_netns ip link add br0 type bridge
	in_netns ip link set v1 master br0
	while IFS='|' read -r devs want; do
		netdevices "$devs"
		run husk_ns run -b "$BUNDLE" "$id"
		echo "$devs: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"$want"* ]]
		assert_nothing_left "$id"
	done <<-'EOF2'
	{"lo": {}}|linux.netDevices: device \"lo\" is a loopback device
	{"v1": {}}|linux.netDevices: device \"v1\" is in use: it is a port of \"br0\"
	{"v0": {"name": "x"}, "v1p": {"name": "x"}}|would both be named \"x\" in the container
	{"v0": {}, "v1p": {"name": "v0"}}|would both be named \"v0\" in the container
	{"v0": {"name": "a/b"}}|linux.netDevices[\"v0\"].name: \"a/b\" is not a network device name
	{"v0": {"name": "0123456789abcdef"}}|is not a network device name
	{"v0": {"name": "e%s"}}|is not a network device name
	{"v0": {"name": ".."}}|is not a network device name
	{"a:b": {}}|linux.netDevices: \"a:b\" is not a network device name
	EOF2
	netdevices '{"v0": {}}'
	update_config "$BUNDLE" '.linux.namespaces |= map(select(.type != "network"))'
	run husk_ns run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.netDevices: moving devices needs a network namespace of the container'* ]]
	# joining the runtime's own namespace is no better
	update_config "$BUNDLE" ".linux.namespaces += [{\"type\": \"network\", \"path\": \"/run/netns/$NETNS\"}]"
	run husk_ns run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the network namespace the container joins is the runtime's own"* ]]
	assert_nothing_left "$id"
	run in_netns ip -o link show v0
	[ "$status" -eq 0 ]
}

@test "netDevices: a create that fails after the move puts the device back, named, addressed and up" {
	make_netns
	local id=$(ctr_id netdevback)
	netdevices '{"v0": {"name": "ctr0"}}'
	update_config "$BUNDLE" '.hooks.createRuntime = [{"path": "/bin/false"}]'
	run husk_ns run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *createRuntime* ]]
	assert_nothing_left "$id"
	run in_netns ip -o link show v0
	[ "$status" -eq 0 ]
	[[ "$output" == *"<"*UP*">"* ]]
	run in_netns ip -o addr show v0
	[[ "$output" == *"inet 10.9.8.7/24"* ]]
	[[ "$output" == *"inet6 fd00::7/64"* ]]
}

@test "netDevices: a create that fails after the init is set up (the pid file) puts the device back too" {
	make_netns
	local id=$(ctr_id netdevpid)
	netdevices '{"v0": {"name": "ctr0"}}'
	# the pid file is written once the init is set up, the device moved
	run husk_ns create -b "$BUNDLE" --pid-file "$TEST_TMP/no/such/dir/pid" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"pid"* ]]
	assert_nothing_left "$id"
	# not destroyed with the container's namespace: back, as it was
	run in_netns ip -o link show v0
	[ "$status" -eq 0 ]
	[[ "$output" == *"<"*UP*">"* ]]
	run in_netns ip -o addr show v0
	[[ "$output" == *"inet 10.9.8.7/24"* ]]
	run in_netns ip -o link show v0p
	[ "$status" -eq 0 ]
}

# In a namespace the config joins, others with CAP_NET_ADMIN there may have
# renamed the device and made a link of their own under its name or index
# by the time create fails: moving "it" back could bring their link into
# the runtime's namespace. So the device stays where the config sent it.
@test "netDevices: a create into a joined namespace that fails leaves the device there, saying so" {
	make_netns
	local id=$(ctr_id netdevjoinfail)
	ip netns add "$NETNS-ctr"
	update_config "$BUNDLE" '.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/'"$NETNS-ctr"'" else . end)'
	netdevices '{"v0": {"name": "ctr0"}}'
	run husk_ns create -b "$BUNDLE" --pid-file "$TEST_TMP/no/such/dir/pid" "$id"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"network device v0: left in the joined network namespace"* ]]
	assert_nothing_left "$id"
	run in_netns ip -o link show v0
	[ "$status" -ne 0 ]
	run ip netns exec "$NETNS-ctr" ip -o link show ctr0
	[ "$status" -eq 0 ]
}

@test "intelRdt: on a host without resctrl it is a clear error naming the field, leaving nothing" {
	grep -q ' - resctrl ' /proc/self/mountinfo && skip "this host has resctrl mounted"
	local id=$(ctr_id rdt) rdt
	for rdt in '{"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0"}' '{"enableMonitoring": true}' \
		'{"schemata": ["L3:0=f", "MB:0=50"]}' '{}'; do
		update_config "$BUNDLE" ".linux.intelRdt = $rdt"
		run husk run -b "$BUNDLE" "$id"
		echo "$rdt: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.intelRdt: no resctrl filesystem is mounted on this host"* ]]
		assert_nothing_left "$id"
	done
	# a field that is wrong in itself is named first
	update_config "$BUNDLE" '.linux.intelRdt = {"memBwSchema": "L3:0=1"}'
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.intelRdt.memBwSchema: \"L3:0=1\" must be one line starting with \"MB:\"'* ]]
}

@test "intelRdt: the init and an exec'd process are in the container's own group; delete removes it" {
	local root
	root=$(awk '$(NF-2) == "resctrl" || $9 == "resctrl" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$root" ] || skip "this host has no resctrl mounted (Intel RDT / AMD QoS)"
	local id=$(ctr_id rdtexec)
	update_config "$BUNDLE" '.linux.intelRdt = {}'
	set_args "$BUNDLE" sleep 30
	husk create -b "$BUNDLE" --pid-file "$TEST_TMP/init.pid" "$id"
	grep -qx "$(cat "$TEST_TMP/init.pid")" "$root/$id/tasks"
	husk start "$id"
	husk exec -d --pid-file "$TEST_TMP/exec.pid" "$id" sleep 30 >/dev/null 2>&1
	grep -qx "$(cat "$TEST_TMP/exec.pid")" "$root/$id/tasks"
	husk delete -f "$id"
	[ ! -e "$root/$id" ]
}

@test "features: ociVersionMax 1.3.0, memoryPolicy modes and flags, netDevices, intelRdt" {
	run husk features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.ociVersionMax == "1.3.0"
		and (.linux.memoryPolicy.modes | sort) == ["MPOL_BIND", "MPOL_DEFAULT", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"]
		and (.linux.memoryPolicy.flags | sort) == ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]
		and .linux.netDevices.enabled == true
		and .linux.intelRdt == {"enabled": true, "schemata": true, "monitoring": true}'
}

@test "spec writes ociVersion 1.3.0, and configs of 1.0 still run" {
	[ "$(jq -r .ociVersion "$BUNDLE/config.json")" = 1.3.0 ]
	update_config "$BUNDLE" '.ociVersion = "1.0.2"'
	run_sh "$BUNDLE" 'echo ran'
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
}
