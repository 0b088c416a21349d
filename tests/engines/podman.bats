#!/usr/bin/env bats
# podman, through conmon, running containers with husk: the runtime entry
# of contrib/engines/podman-containers.conf with the built husk in it.
# Storage (vfs), state, events and CNI config are in the run's temp dir;
# --network none always (netns = "none"); cgroups by podman's cgroupfs
# manager under a parent named after the run. See engines.bash.

load engines

setup_file() {
	command -v podman >/dev/null && command -v conmon >/dev/null ||
		skip "podman and conmon are not installed (contrib/deps.sh test)"
	eng_setup
	local p=$ENG_TMP/podman
	mkdir -p "$p/cni" "$p/tmp"
	# the sample, with the built husk and the test's private paths. The
	# ulimits: podman asks for 1048576 open files and processes, which
	# needs CAP_SYS_RESOURCE (not in every CI sandbox's bounding set)
	awk -v t="$p" -v husk="$HUSK_BIN" '
		{ sub("\"/usr/local/sbin/husk\"", "\"" husk "\""); print }
		/^\[engine\]$/ {
			print "events_logger = \"file\""
			print "events_logfile_path = \"" t "/events.log\""
			print "tmp_dir = \"" t "/tmp\""
			print "static_dir = \"" t "/root/libpod\""
			print "volume_path = \"" t "/root/volumes\""
		}
		END {
			print "\n[containers]\nnetns = \"none\""
			print "default_ulimits = [\"nofile=1024:4096\", \"nproc=4096:4096\"]"
			print "\n[network]\nnetwork_config_dir = \"" t "/cni\""
		}' "$ENG_CONTRIB/podman-containers.conf" >"$p/containers.conf"
	grep -q "^husk = \[" "$p/containers.conf"
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' "$p" "$p" >"$p/storage.conf"
	echo 'unqualified-search-registries = []' >"$p/registries.conf"
	busybox_rootfs "$ENG_TMP/rootfs"
	mkdir -p "$ENG_TMP/rootfs/data/sub"
	echo from-image >"$ENG_TMP/rootfs/data/file"
	chown -R 65534:65534 "$ENG_TMP/rootfs/data/sub"
	tar -C "$ENG_TMP/rootfs" -cf "$ENG_TMP/busybox.tar" .
	pod import --change 'CMD ["/bin/sh"]' "$ENG_TMP/busybox.tar" localhost/husk-busybox:test >/dev/null
	export ENG_TMP ENG_HOLDER ENG_CGROUP
}

teardown_file() {
	if [ -n "${ENG_TMP:-}" ]; then
		pod rm -a -f -t 0 >/dev/null 2>&1 || true
		eng_teardown
	fi
}

# pod ARGS: podman with the test's configuration, in the private namespace
pod() {
	local p=$ENG_TMP/podman
	eng_ns env CONTAINERS_CONF="$p/containers.conf" CONTAINERS_STORAGE_CONF="$p/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$p/registries.conf" \
		podman --root "$p/root" --runroot "$p/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

# pod_tty ARGS: pod with a terminal on its side (script(1) gives it one);
# the output has the terminal's \r removed
pod_tty() {
	local p=$ENG_TMP/podman cmd
	cmd=$(printf '%q ' env CONTAINERS_CONF="$p/containers.conf" CONTAINERS_STORAGE_CONF="$p/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$p/registries.conf" \
		podman --root "$p/root" --runroot "$p/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@")
	eng_ns script -qec "$cmd" /dev/null </dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# prun ARGS: podman run with the image, its cgroups under the run's parent
IMG=localhost/husk-busybox:test
prun() {
	pod run --network none --cgroup-parent "/$ENG_CGROUP" "$@"
}

# wait_log NAME TEXT: until the container's log has TEXT
wait_log() {
	local i
	for i in $(seq 100); do
		pod logs "$1" 2>/dev/null | grep -q "$2" && return 0
		sleep 0.1
	done
	pod logs "$1"
	return 1
}

@test "podman: info names husk as the OCI runtime" {
	run pod info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'
	[ "$status" -eq 0 ]
	[ "$output" = "husk $HUSK_BIN" ]
}

@test "podman: run --rm prints the output and returns the exit code" {
	run prun --rm "$IMG" echo hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	run prun --rm "$IMG" sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run pod ps -a -q
	[ -z "$output" ]
}

@test "podman: detached run, logs, stop" {
	prun -d --name det "$IMG" sh -c 'echo started; trap "echo stopping; exit 0" TERM; while :; do sleep 0.1; done'
	wait_log det started
	run pod inspect det --format '{{.State.Status}}'
	[ "$output" = running ]
	run pod stop -t 10 det
	[ "$status" -eq 0 ]
	run pod inspect det --format '{{.State.Status}} {{.State.ExitCode}}'
	[ "$output" = "exited 0" ]
	run pod logs det
	[ "$output" = "$(printf 'started\nstopping')" ]
	run pod rm det
	[ "$status" -eq 0 ]
}

@test "podman: exec with and without a terminal" {
	prun -d --name ex "$IMG" sleep 1000
	run pod exec ex sh -c 'echo out; tty; exit 7'
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = out ]
	[ "${lines[1]}" = "not a tty" ]
	run pod exec -t ex tty
	[ "$status" -eq 0 ]
	[[ "$output" == /dev/pts/* ]]
	run pod exec -d ex sleep 1
	[ "$status" -eq 0 ]
	run pod exec --user 65534 ex id -u
	[ "$output" = 65534 ]
	pod rm -f -t 0 ex
}

@test "podman: pause and unpause freeze the container's cgroup" {
	prun -d --name pz "$IMG" sleep 1000
	run pod pause pz
	[ "$status" -eq 0 ]
	run pod inspect pz --format '{{.State.Status}}'
	[ "$output" = paused ]
	local pid
	pid=$(pod inspect pz --format '{{.State.Pid}}')
	local freezer
	freezer=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")
	[ "$(cat "/sys/fs/cgroup/freezer$freezer/freezer.state")" = FROZEN ]
	run pod unpause pz
	[ "$status" -eq 0 ]
	[ "$(cat "/sys/fs/cgroup/freezer$freezer/freezer.state")" = THAWED ]
	run pod exec pz echo alive
	[ "$output" = alive ]
	pod rm -f -t 0 pz
}

@test "podman: stats and top" {
	prun -d --name st --memory 64m "$IMG" sleep 1000
	run pod stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^st\ [0-9.]+[kMG]?B\ /\ 67.11MB\ 1$ ]]
	run pod top st pid args
	[ "$status" -eq 0 ]
	[[ "$output" == *"sleep 1000"* ]]
	pod rm -f -t 0 st
}

@test "podman: memory and pids limits reach the container's cgroup" {
	prun -d --name lim --memory 64m --memory-swap 64m --pids-limit 42 "$IMG" sleep 1000
	local pid mem pids
	pid=$(pod inspect lim --format '{{.State.Pid}}')
	mem=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
	pids=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup")
	[[ "$mem" == "/$ENG_CGROUP/"* ]]
	[ "$(cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "/sys/fs/cgroup/pids$pids/pids.max")" = 42 ]
	# and the container sees its limits
	run pod exec lim cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '67108864\n42')" ]
	pod rm -f -t 0 lim
}

@test "podman: --read-only keeps / read-only with writable tmpfs on /tmp, /run and /var/tmp" {
	run prun --rm --read-only "$IMG" sh -c 'touch /x 2>&1; touch /tmp/x /run/x /var/tmp/x && echo tmp-writable; cat /data/file'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"Read-only file system"* ]]
	[ "${lines[1]}" = tmp-writable ]
	[ "${lines[2]}" = from-image ]
}

@test "podman: --tmpfs and --mount type=tmpfs start with the image's contents (tmpcopyup)" {
	run prun --rm --tmpfs /data "$IMG" sh -c 'cat /data/file; stat -c "%u %a" /data/sub; echo new >/data/file; cat /data/file; grep " /data " /proc/mounts | cut -d" " -f3'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'from-image\n65534 755\nnew\ntmpfs')" ]
	run prun --rm --mount type=tmpfs,destination=/data "$IMG" sh -c 'cat /data/file; stat -c %u /data/sub; grep " /data " /proc/mounts | cut -d" " -f3'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'from-image\n65534\ntmpfs')" ]
	# notmpcopyup: an empty tmpfs
	run prun --rm --tmpfs /data:notmpcopyup "$IMG" ls -A /data
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "podman: --user and --cap-drop ALL" {
	run prun --rm --user 65534:65534 "$IMG" id
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" ]
	run prun --rm --cap-drop ALL "$IMG" sh -c 'grep -E "^Cap(Prm|Eff|Bnd|Amb)" /proc/self/status; chown 1 /tmp 2>&1 || echo refused'
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapPrm:	0000000000000000" ]
	[ "${lines[1]}" = "CapEff:	0000000000000000" ]
	[ "${lines[2]}" = "CapBnd:	0000000000000000" ]
	[ "${lines[3]}" = "CapAmb:	0000000000000000" ]
	[[ "${lines[4]}" == *"Operation not permitted"* ]]
	[ "${lines[5]}" = refused ]
}

@test "podman: healthcheck run reports unhealthy, then healthy" {
	prun -d --name hc --health-cmd 'test -e /tmp/ready' --health-interval disable "$IMG" sleep 1000
	run pod healthcheck run hc
	[ "$status" -eq 1 ]
	[ "$output" = unhealthy ]
	pod exec hc touch /tmp/ready
	run pod healthcheck run hc
	[ "$status" -eq 0 ]
	run pod inspect hc --format '{{.State.Health.Status}}'
	[ "$output" = healthy ]
	pod rm -f -t 0 hc
}

@test "podman: kill with a signal the container handles, and with the default SIGKILL" {
	prun -d --name k1 "$IMG" sh -c 'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done'
	wait_log k1 ready
	run pod kill -s USR1 k1
	[ "$status" -eq 0 ]
	run pod wait k1
	[ "$output" = 5 ]
	run pod logs k1
	[[ "$output" == *got-usr1* ]]
	prun -d --name k2 "$IMG" sleep 1000
	run pod kill k2
	[ "$status" -eq 0 ]
	run pod wait k2
	[ "$output" = 137 ]
	pod rm k1 k2
}

@test "podman: run -t gives the container a terminal through conmon's console socket" {
	run pod_tty run --rm -t --network none --cgroup-parent "/$ENG_CGROUP" "$IMG" sh -c 'tty; test -t 1 && test -t 2 && echo all-ttys; exit 4'
	echo "status $status: $output"
	[ "$status" -eq 4 ]
	[[ "${lines[0]}" =~ ^/dev/pts/[0-9]+$ ]]
	[ "${lines[1]}" = all-ttys ]
}

@test "podman: restart runs the container's process again" {
	prun -d --name rs "$IMG" sh -c 'echo run; sleep 1000'
	wait_log rs run
	local pid1
	pid1=$(pod inspect rs --format '{{.State.Pid}}')
	run pod restart -t 0 rs
	[ "$status" -eq 0 ]
	run pod inspect rs --format '{{.State.Status}}'
	[ "$output" = running ]
	[ "$(pod inspect rs --format '{{.State.Pid}}')" != "$pid1" ]
	run pod logs rs
	[ "$output" = "$(printf 'run\nrun')" ]
	pod rm -f -t 0 rs
}
