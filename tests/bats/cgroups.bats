#!/usr/bin/env bats
# linux.resources: the values land in the container's cgroup and are enforced.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 1000
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then V2=1; else V2=; fi
}

teardown() {
	teardown_common
	# a parent cgroup a test made, in every hierarchy it may be in
	local d
	if [ -n "${CG_PARENT:-}" ]; then
		for d in /sys/fs/cgroup/*/"$CG_PARENT" /sys/fs/cgroup/"$CG_PARENT"; do
			[ -d "$d" ] && rmdir "$d"
		done
	fi
	return 0
}

# cg_file CTRL V1FILE V2FILE ID: the path of a container's cgroup file.
cg_file() {
	if [ -n "$V2" ]; then echo "/sys/fs/cgroup/$4/$3"; else echo "/sys/fs/cgroup/$1/$4/$2"; fi
}

# need_file CTRL V1FILE V2FILE: skip when the host lacks the controller file.
need_file() {
	local f
	if [ -n "$V2" ]; then
		grep -qw "$1" /sys/fs/cgroup/cgroup.controllers || skip "no $1 controller on this host"
	else
		f=$(find "/sys/fs/cgroup/$1/" -maxdepth 1 -name "$2" 2>/dev/null)
		[ -n "$f" ] || skip "no /sys/fs/cgroup/$1/$2 on this host"
	fi
}

@test "createContainer hooks run in the container's cgroup with its limits written" {
	need_file pids tasks pids.max
	local id max procs
	id=$(ctr_id hookcg)
	max=$(cg_file pids pids.max pids.max "$id")
	procs=$(cg_file pids cgroup.procs cgroup.procs "$id")
	# the hook runs in the container's namespaces before pivot_root: the
	# host's /sys/fs/cgroup, and its own pid as that cgroup lists it
	update_config "$BUNDLE" '.linux.resources.pids.limit = 37 |
		.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c",
		"cat '"$max"' >'"$TEST_TMP"'/seen; grep -qx $$ '"$procs"' && echo member >>'"$TEST_TMP"'/seen"]}]'
	husk run -d -b "$BUNDLE" "$id"
	[ "$(cat "$TEST_TMP/seen")" = "37
member" ]
}

@test "memory, cpu and pids limits land in the cgroup" {
	need_file memory memory.limit_in_bytes memory.max
	need_file cpu cpu.cfs_quota_us cpu.max
	need_file pids tasks pids.max
	local id
	id=$(ctr_id res)
	update_config "$BUNDLE" '.linux.resources = {
		"memory": {"limit": 67108864, "reservation": 33554432},
		"cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
		"pids": {"limit": 42}}'
	husk run -d -b "$BUNDLE" "$id"
	[ "$(cat "$(cg_file pids pids.max pids.max "$id")")" = 42 ]
	[ "$(cat "$(cg_file cpuset cpuset.cpus cpuset.cpus "$id")")" = 0 ]
	if [ -n "$V2" ]; then
		[ "$(cat "/sys/fs/cgroup/$id/memory.max")" = 67108864 ]
		[ "$(cat "/sys/fs/cgroup/$id/memory.low")" = 33554432 ]
		[ "$(cat "/sys/fs/cgroup/$id/cpu.max")" = "50000 100000" ]
		[ "$(cat "/sys/fs/cgroup/$id/cpu.weight")" = $((1 + (510 * 9999) / 262142)) ]
	else
		[ "$(cat "/sys/fs/cgroup/memory/$id/memory.limit_in_bytes")" = 67108864 ]
		[ "$(cat "/sys/fs/cgroup/memory/$id/memory.soft_limit_in_bytes")" = 33554432 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.shares")" = 512 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.cfs_quota_us")" = 50000 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.cfs_period_us")" = 100000 ]
	fi
	# the container's process is in that cgroup
	pid=$(husk state "$id" | jq -r .pid)
	grep -q "$id" "/proc/$pid/cgroup"
}

@test "memory swap and swappiness on v1" {
	[ -z "$V2" ] || skip "v1 files only"
	need_file memory memory.memsw.limit_in_bytes
	local id
	id=$(ctr_id swap)
	update_config "$BUNDLE" '.linux.resources.memory = {"limit": 67108864, "swap": 134217728,
		"swappiness": 10}'
	husk run -d -b "$BUNDLE" "$id"
	[ "$(cat "/sys/fs/cgroup/memory/$id/memory.memsw.limit_in_bytes")" = 134217728 ]
	[ "$(cat "/sys/fs/cgroup/memory/$id/memory.swappiness")" = 10 ]
}

@test "memory.kernelTCP lands in memory.kmem.tcp.limit_in_bytes on v1; update changes it" {
	[ -z "$V2" ] || skip "cgroup v2 has no TCP memory limit"
	need_file memory memory.kmem.tcp.limit_in_bytes
	local id f
	id=$(ctr_id ktcp)
	update_config "$BUNDLE" '.linux.resources.memory = {"kernelTCP": 16777216}'
	run husk_nowait run -d -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[[ "$output" != *kernelTCP* ]]
	f=/sys/fs/cgroup/memory/$id/memory.kmem.tcp.limit_in_bytes
	[ "$(cat "$f")" = 16777216 ]
	husk update --kernel-memory-tcp 32M "$id"
	[ "$(cat "$f")" = 33554432 ]
	echo '{"memory": {"kernelTCP": 8388608}}' | husk update -r - "$id"
	[ "$(cat "$f")" = 8388608 ]
	[ "$(jq .linux.resources.memory.kernelTCP "$HUSK_ROOT/$id/config.json")" = 8388608 ]
}

@test "memory.kernelTCP where the kernel has no TCP limit file is a warning, not an error" {
	if [ -z "$V2" ] && [ -f /sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes ]; then
		skip "this host's memory hierarchy has memory.kmem.tcp.limit_in_bytes"
	fi
	local id
	id=$(ctr_id ktcpw)
	update_config "$BUNDLE" '.linux.resources.memory = {"kernelTCP": 16777216}'
	run husk_nowait run -d -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *warn*"linux.resources.memory.kernelTCP: ignored"* ]]
	[ "$(container_status "$id")" = running ]
}

@test "cpu burst, idle, mems and realtime, memory disableOOMKiller and swap land in the cgroup" {
	need_file cpu cpu.cfs_burst_us cpu.max.burst
	local id
	id=$(ctr_id cpux)
	if [ -n "$V2" ]; then
		update_config "$BUNDLE" '.linux.resources = {
			"memory": {"limit": 67108864, "swap": 134217728},
			"cpu": {"quota": 50000, "period": 100000, "burst": 10000, "idle": 1, "mems": "0"}}'
		husk run -d -b "$BUNDLE" "$id"
		[ "$(cat "/sys/fs/cgroup/$id/cpu.max.burst")" = 10000 ]
		[ "$(cat "/sys/fs/cgroup/$id/cpu.idle")" = 1 ]
		[ "$(cat "/sys/fs/cgroup/$id/cpuset.mems")" = 0 ]
		# v2 counts swap alone: swap - limit
		[ "$(cat "/sys/fs/cgroup/$id/memory.swap.max")" = 67108864 ]
		husk delete --force "$id"
		# fields v2 has no file for are refused, naming them
		update_config "$BUNDLE" '.linux.resources = {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}'
		run husk create -b "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime"* ]]
		update_config "$BUNDLE" '.linux.resources = {"memory": {"disableOOMKiller": true}}'
		run husk create -b "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.resources.memory.disableOOMKiller: cgroup v2"* ]]
		assert_nothing_left "$id"
	else
		need_file cpu cpu.rt_runtime_us
		update_config "$BUNDLE" '.linux.resources = {
			"memory": {"limit": 67108864, "disableOOMKiller": true},
			"cpu": {"quota": 50000, "period": 100000, "burst": 10000, "idle": 1, "mems": "0",
				"realtimePeriod": 1000000, "realtimeRuntime": 10000}}'
		husk run -d -b "$BUNDLE" "$id"
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.cfs_burst_us")" = 10000 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.idle")" = 1 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.rt_period_us")" = 1000000 ]
		[ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.rt_runtime_us")" = 10000 ]
		[ "$(cat "/sys/fs/cgroup/cpuset/$id/cpuset.mems")" = 0 ]
		grep -qx "oom_kill_disable 1" "/sys/fs/cgroup/memory/$id/memory.oom_control"
	fi
}

@test "blockIO.weight lands in the weight file (mapped onto io.weight on v2); update changes it; rdma needs its device" {
	local id wf
	id=$(ctr_id blkw)
	update_config "$BUNDLE" '.linux.resources.blockIO = {"weight": 500}'
	if [ -n "$V2" ]; then
		grep -qw io /sys/fs/cgroup/cgroup.controllers || skip "no io controller on this host"
		husk run -d -b "$BUNDLE" "$id"
		[ -f "/sys/fs/cgroup/$id/io.weight" ] || skip "io.weight needs a weight-based io policy"
		# 10..1000 onto 1..10000, as runc and crun map it
		[ "$(cat "/sys/fs/cgroup/$id/io.weight")" = "default $((1 + (490 * 9999) / 990))" ]
		husk update --blkio-weight 300 "$id"
		[ "$(cat "/sys/fs/cgroup/$id/io.weight")" = "default $((1 + (290 * 9999) / 990))" ]
		husk delete --force "$id"
	else
		# the root's files say which weight policy the kernel has, if any
		wf=
		[ -f /sys/fs/cgroup/blkio/blkio.bfq.weight ] && wf=blkio.bfq.weight
		[ -f /sys/fs/cgroup/blkio/blkio.weight ] && wf=blkio.weight
		if [ -n "$wf" ]; then
			husk run -d -b "$BUNDLE" "$id"
			[ "$(cat "/sys/fs/cgroup/blkio/$id/$wf")" = 500 ]
			husk update --blkio-weight 300 "$id"
			[ "$(cat "/sys/fs/cgroup/blkio/$id/$wf")" = 300 ]
			husk delete --force "$id"
		else
			# no weight-based policy: an error naming the field, nothing left
			run husk run -d -b "$BUNDLE" "$id"
			[ "$status" -eq 1 ]
			[[ "$output" == *"linux.resources.blockIO.weight: /sys/fs/cgroup/blkio/$id/blkio.weight does not exist"* ]]
			assert_nothing_left "$id"
		fi
	fi
	# outside the v1 range: refused before anything exists
	update_config "$BUNDLE" '.linux.resources.blockIO = {"weight": 5}'
	run husk create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.blockIO.weight: 5 is outside 10..1000"* ]]
	assert_nothing_left "$id"
	# an RDMA device the host lacks (or no rdma controller) names the field
	update_config "$BUNDLE" 'del(.linux.resources.blockIO) | .linux.resources.rdma = {"husk-no-dev": {"hcaHandles": 2}}'
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.rdma.husk-no-dev"*"rdma.max"* ]]
	assert_nothing_left "$id"
}

@test "network classID and priorities land in net_cls/net_prio, or fail naming the field where there are none" {
	local id
	id=$(ctr_id net)
	update_config "$BUNDLE" '.linux.resources.network = {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}'
	if [ -z "$V2" ] && [ -d /sys/fs/cgroup/net_cls ] && [ -d /sys/fs/cgroup/net_prio ]; then
		husk run -d -b "$BUNDLE" "$id"
		[ "$(cat "/sys/fs/cgroup/net_cls/$id/net_cls.classid")" = 1048577 ]
		grep -qx "lo 5" "/sys/fs/cgroup/net_prio/$id/net_prio.ifpriomap"
		return 0
	fi
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -ne 0 ]
	if [ -n "$V2" ]; then
		[[ "$output" == *"linux.resources.network.classID: cgroup v2 has no net_cls controller"* ]]
	else
		[[ "$output" == *"linux.resources.network.classID: /sys/fs/cgroup/net_cls/$id/net_cls.classid does not exist"* ]]
	fi
	assert_nothing_left "$id"
}

@test "the pids limit is enforced: forks past it fail" {
	need_file pids tasks pids.max
	local id
	id=$(ctr_id pids)
	update_config "$BUNDLE" '.linux.resources.pids = {"limit": 5}'
	set_args "$BUNDLE" sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; wait'
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	echo "status=$status output=$output"
	[[ "$output" == *"fork"* || "$output" == *"resource"* || "$output" == *"Resource"* ]]
}

@test "the memory limit is enforced: an allocation past it is OOM-killed" {
	need_file memory memory.limit_in_bytes memory.max
	local id
	id=$(ctr_id oom)
	update_config "$BUNDLE" '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	[ -n "$V2" ] || [ -f /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] ||
		update_config "$BUNDLE" 'del(.linux.resources.memory.swap)'
	# 100 MiB held in a shell variable
	set_args "$BUNDLE" sh -c 'x=$(head -c 104857600 /dev/zero | tr "\0" a); echo ${#x}'
	run husk run -b "$BUNDLE" "$id"
	echo "status=$status output=$output"
	[ "$status" -eq 137 ]
}

@test "bad values fail create, naming the field, and leave nothing behind" {
	local id
	id=$(ctr_id bad)
	update_config "$BUNDLE" '.linux.resources.cpu = {"cpus": "a-b"}'
	run husk create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.cpu.cpus"* ]]
	[ ! -e "/sys/fs/cgroup/memory/$id" ] && [ ! -e "/sys/fs/cgroup/$id" ]
	run husk state "$id"
	[ "$status" -ne 0 ]

	update_config "$BUNDLE" '.linux.resources = {"memory": {"limit": -5}}'
	run husk create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.memory.limit"* ]]
	[ ! -e "/sys/fs/cgroup/memory/$id" ] && [ ! -e "/sys/fs/cgroup/$id" ]
}

@test "unified on a v1 host is an error" {
	[ -z "$V2" ] || skip "host is cgroup v2"
	local id
	id=$(ctr_id uni)
	update_config "$BUNDLE" '.linux.resources.unified = {"memory.high": "1000000"}'
	run husk create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.unified: needs cgroup v2"* ]]
	[ ! -e "/sys/fs/cgroup/memory/$id" ]
}

@test "a controller file the host lacks is an error naming field and file" {
	[ -z "$V2" ] || skip "v1 host check"
	[ ! -d /sys/fs/cgroup/hugetlb ] || skip "host has hugetlb"
	local id
	id=$(ctr_id huge)
	update_config "$BUNDLE" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 2097152}]'
	run husk create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.hugepageLimits[0]"*"hugetlb.2MB.limit_in_bytes"* ]]
	[ ! -e "/sys/fs/cgroup/memory/$id" ]
}

@test "update changes the limits of a running container and its config copy" {
	need_file memory memory.limit_in_bytes memory.max
	need_file pids tasks pids.max
	local id
	id=$(ctr_id upd)
	update_config "$BUNDLE" '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 10}}'
	husk run -d -b "$BUNDLE" "$id"
	husk update --memory 128M --pids-limit 20 --cpu-shares 256 "$id"
	[ "$(cat "$(cg_file pids pids.max pids.max "$id")")" = 20 ]
	[ "$(cat "$(cg_file memory memory.limit_in_bytes memory.max "$id")")" = 134217728 ]
	[ -n "$V2" ] || [ "$(cat "/sys/fs/cgroup/cpu/$id/cpu.shares")" = 256 ]
	[ "$(jq .linux.resources.pids.limit "$HUSK_ROOT/$id/config.json")" = 20 ]
	[ "$(jq .linux.resources.memory.limit "$HUSK_ROOT/$id/config.json")" = 134217728 ]

	echo '{"pids": {"limit": 0}, "memory": {"limit": 100000000}}' | husk update --resources - "$id"
	[ "$(cat "$(cg_file pids pids.max pids.max "$id")")" = max ]
	[ "$(( $(cat "$(cg_file memory memory.limit_in_bytes memory.max "$id")") / 4096 ))" = $((100000000 / 4096)) ]

	run husk update --cpuset-cpus a-b "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.cpu.cpus"* ]]
	run husk update --memory lots "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--memory"* ]]

	husk kill "$id" KILL
	sleep 0.3
	run husk update --pids-limit 5 "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *stopped* ]]
}

@test "update lowers cpu period and quota where the parent's limit refuses the period first (v1)" {
	[ -z "$V2" ] || skip "cgroup v2 takes quota and period in one write to cpu.max"
	need_file cpu cpu.cfs_period_us
	local id dir
	id=$(ctr_id cpuper)
	CG_PARENT=$id-parent
	# the parent allows half a CPU; the container has all of that
	mkdir "/sys/fs/cgroup/cpu/$CG_PARENT"
	echo 100000 >"/sys/fs/cgroup/cpu/$CG_PARENT/cpu.cfs_period_us"
	echo 50000 >"/sys/fs/cgroup/cpu/$CG_PARENT/cpu.cfs_quota_us"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_PARENT/ctr\" |
		.linux.resources.cpu = {\"period\": 100000, \"quota\": 50000}"
	husk run -d -b "$BUNDLE" "$id"
	dir=/sys/fs/cgroup/cpu/$CG_PARENT/ctr
	[ "$(cat "$dir/cpu.cfs_quota_us")" = 50000 ]
	# period 50000 beside the old quota 50000 would be a whole CPU: the
	# kernel refuses that order (EINVAL); quota first, then period, works
	husk update --cpu-period 50000 --cpu-quota 25000 "$id"
	[ "$(cat "$dir/cpu.cfs_period_us")" = 50000 ]
	[ "$(cat "$dir/cpu.cfs_quota_us")" = 25000 ]
	[ "$(jq .linux.resources.cpu.period "$HUSK_ROOT/$id/config.json")" = 50000 ]
	# the period alone (the quota kept from the config) the other way up
	husk update --cpu-period 100000 "$id"
	[ "$(cat "$dir/cpu.cfs_period_us")" = 100000 ]
	[ "$(cat "$dir/cpu.cfs_quota_us")" = 25000 ]
	# a pair the parent cannot hold in either order is still an error
	run husk update --cpu-period 100000 --cpu-quota 80000 "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.cpu.quota"*"Invalid argument"* ]]
	husk delete --force "$id"
}

@test "update with checkBeforeUpdate refuses a memory limit below the current usage" {
	need_file memory memory.limit_in_bytes memory.max
	local id usage i
	id=$(ctr_id cbu)
	update_config "$BUNDLE" '.linux.resources.memory = {"limit": 268435456}'
	# 40 MiB on the container's /dev/shm tmpfs, charged to its cgroup
	set_args "$BUNDLE" sh -c 'head -c 41943040 /dev/zero >/dev/shm/fill; sleep 1000'
	husk run -d -b "$BUNDLE" "$id"
	usage=$(cg_file memory memory.usage_in_bytes memory.current "$id")
	for i in $(seq 100); do
		[ "$(cat "$usage")" -gt 41943040 ] && break
		sleep 0.1
	done
	[ "$(cat "$usage")" -gt 41943040 ]
	echo '{"memory": {"limit": 16777216, "checkBeforeUpdate": true}}' >"$TEST_TMP/r.json"
	run husk update --resources "$TEST_TMP/r.json" "$id"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.memory.limit: 16777216 is below the container's current memory usage"* ]]
	# the limit is unchanged and the container runs on
	[ "$(cat "$(cg_file memory memory.limit_in_bytes memory.max "$id")")" = 268435456 ]
	[ "$(container_status "$id")" = running ]
	# above the usage it applies
	echo '{"memory": {"limit": 134217728, "checkBeforeUpdate": true}}' | husk update --resources - "$id"
	[ "$(cat "$(cg_file memory memory.limit_in_bytes memory.max "$id")")" = 134217728 ]
}

@test "events reports an OOM kill as {\"type\":\"oom\"} and keeps streaming" {
	need_file memory memory.limit_in_bytes memory.max
	local id events_pid log
	id=$(ctr_id oomev)
	log=$TEST_TMP/events
	update_config "$BUNDLE" '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	[ -n "$V2" ] || [ -f /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] ||
		update_config "$BUNDLE" 'del(.linux.resources.memory.swap)'
	husk run -d -b "$BUNDLE" "$id"
	"$HUSK_BIN" --root "$HUSK_ROOT" events --interval 1s "$id" >"$log" 2>&1 &
	events_pid=$!
	# the first stats line means the watch is in place
	for _ in $(seq 300); do grep -q '"type":"stats"' "$log" && break; sleep 0.1; done
	grep -q '"type":"stats"' "$log"
	[ "$(grep -c '"type":"oom"' "$log")" = 0 ]
	# a process of the container allocates 100 MiB past the 32 MiB limit
	run husk exec "$id" sh -c 'x=$(head -c 104857600 /dev/zero | tr "\0" a); echo ${#x}'
	echo "exec: $status $output"
	[ "$status" -ne 0 ]
	for _ in $(seq 300); do grep -q '"type":"oom"' "$log" && break; sleep 0.1; done
	cat "$log"
	grep -Fxq "{\"type\":\"oom\",\"id\":\"$id\"}" "$log"
	# the container lives on and so does the stream, until it stops
	[ "$(container_status "$id")" = running ]
	husk kill "$id" KILL
	wait "$events_pid"
	[ "$(grep -c '"type":"stats"' "$log")" -ge 1 ]
}

# in_cgroup ID: the container's init is a member of its cgroup.
in_cgroup() {
	local pid procs
	pid=$(husk state "$1" | jq -r .pid)
	procs=$(cg_file pids cgroup.procs cgroup.procs "$1")
	grep -qx "$pid" "$procs"
	grep -q "/$1\$" "/proc/$pid/cgroup"
}

@test "the init is in the container's cgroup on every spawn path (plain, time ns, user ns)" {
	need_file pids tasks pids.max
	local id
	update_config "$BUNDLE" '.linux.resources.pids = {"limit": 20}'
	id=$(ctr_id plain)
	husk run -d -b "$BUNDLE" "$id"
	in_cgroup "$id"
	husk delete -f "$id"
	[ ! -e "$(cg_file pids . . "$id")" ]

	if [ -e /proc/self/ns/time ]; then
		# joining or a time namespace takes the two-step spawn
		update_config "$BUNDLE" '.linux.namespaces += [{"type": "time"}]'
		id=$(ctr_id timens)
		husk run -d -b "$BUNDLE" "$id"
		in_cgroup "$id"
		husk delete -f "$id"
		update_config "$BUNDLE" '.linux.namespaces |= map(select(.type != "time"))'
	fi

	[ -e /proc/self/ns/user ] || skip "no user namespaces"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	chown -R 100000:200000 "$BUNDLE/rootfs"
	chmod 755 "$TEST_TMP" "$BUNDLE"
	id=$(ctr_id userns)
	husk run -d -b "$BUNDLE" "$id"
	in_cgroup "$id"
	[ "$(cat "$(cg_file pids pids.max pids.max "$id")")" = 20 ]
}

@test "hugepageLimits land in the hugetlb files" {
	if [ -n "$V2" ]; then
		grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers || skip "no hugetlb controller"
	else
		[ -d /sys/fs/cgroup/hugetlb ] || skip "no v1 hugetlb hierarchy (this host keeps hugetlb in its v2 tree)"
	fi
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
	local id
	id=$(ctr_id huge2)
	update_config "$BUNDLE" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	husk run -d -b "$BUNDLE" "$id"
	[ "$(cat "$(cg_file hugetlb hugetlb.2MB.limit_in_bytes hugetlb.2MB.max "$id")")" = 4194304 ]
}

@test "an rdma key over the device-name limit fails naming linux.resources.rdma" {
	local id key
	id=$(ctr_id rdmalong)
	key=$(printf 'm%.0s' $(seq 1 300))
	update_config "$BUNDLE" ".linux.resources.rdma = {\"$key\": {\"hcaHandles\": 1, \"hcaObjects\": 2}}"
	run husk_nowait create --bundle "$BUNDLE" "$id"
	echo "$status $output"
	[ "$status" -ne 0 ]
	[ "$status" -lt 128 ]
	[[ "$output" == *"linux.resources.rdma: "*"is not an RDMA device name (at most 64 bytes"* ]]
	assert_nothing_left "$id"
}
