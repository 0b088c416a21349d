#!/usr/bin/env bats
# containerd, through its runc v2 shim, running containers with husk: a
# private daemon started with contrib/engines/containerd-config.toml (its
# root, state, socket and plugin paths moved under the run's temp dir, the
# CRI plugin off: no CNI networking), and ctr given the sample's
# BinaryName (ctr does not read the CRI section). Its tasks have no network
# namespace of their own configured, so none is made; see engines.bash for
# the private mount namespace, and /run is a private tmpfs there too (the
# shims' sockets go to /run/containerd/s).

load engines

setup_file() {
	command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null ||
		skip "containerd is not installed (contrib/deps.sh test)"
	eng_setup
	local c=$ENG_TMP/containerd
	mkdir -p "$c"
	eng_ns mount -t tmpfs -o mode=755 tmpfs /run
	awk -v c="$c" -v husk="$HUSK_BIN" '
		{ sub("\"/usr/local/sbin/husk\"", "\"" husk "\""); print }
		/^version = 2$/ {
			print "root = \"" c "/root\""
			print "state = \"" c "/state\""
			print "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.aufs\"]"
		}
		END {
			print "\n[grpc]\n  address = \"" c "/sock\""
			print "\n[ttrpc]\n  address = \"" c "/sock.ttrpc\""
			print "\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" c "/opt\""
		}' "$ENG_CONTRIB/containerd-config.toml" >"$c/config.toml"
	# the shim runs the binary the sample names
	ENG_RUNC_BINARY=$(sed -n 's/^ *BinaryName = "\(.*\)"$/\1/p' "$c/config.toml")
	[ "$ENG_RUNC_BINARY" = "$HUSK_BIN" ]
	# nsenter execs containerd: $! is the daemon's pid (through a function
	# it would be a subshell's, and the daemon would outlive the kill)
	nsenter -t "$ENG_HOLDER" -m -- containerd --config "$c/config.toml" </dev/null >"$c/log" 2>&1 3>&- &
	ENG_CONTAINERD=$!
	local i
	for i in $(seq 100); do
		[ -S "$c/sock" ] && ctr --address "$c/sock" version >/dev/null 2>&1 && break
		kill -0 "$ENG_CONTAINERD" 2>/dev/null || { cat "$c/log" >&2; return 1; }
		sleep 0.1
	done
	# an OCI archive of the busybox fixture, named by --base-name
	local layout=$ENG_TMP/layout
	busybox_rootfs "$ENG_TMP/rootfs"
	oci_init "$layout"
	img_begin
	img_layer_dir "$layout" "$ENG_TMP/rootfs"
	img_manifest "$layout" '{"Cmd": ["/bin/sh"]}' "$(dpkg --print-architecture)"
	img_tag "$layout" test "$IMG_MANIFEST" "$IMG_MANIFEST_SIZE"
	tar -C "$layout" -cf "$ENG_TMP/image.tar" .
	c_ctr images import --base-name localhost/husk-busybox "$ENG_TMP/image.tar" >/dev/null
	[ "$(cat "/proc/$ENG_CONTAINERD/comm")" = containerd ]
	export ENG_TMP ENG_HOLDER ENG_CGROUP ENG_CONTAINERD ENG_RUNC_BINARY
}

teardown_file() {
	[ -n "${ENG_TMP:-}" ] || return 0
	local t
	for t in $(c_ctr tasks ls -q 2>/dev/null); do
		c_ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
	done
	for t in $(c_ctr containers ls -q 2>/dev/null); do
		c_ctr tasks delete -f "$t" >/dev/null 2>&1 || true
		c_ctr containers delete "$t" >/dev/null 2>&1 || true
	done
	if [ -n "${ENG_CONTAINERD:-}" ]; then
		kill "$ENG_CONTAINERD" 2>/dev/null || true
		local i
		for i in $(seq 100); do
			kill -0 "$ENG_CONTAINERD" 2>/dev/null || break
			sleep 0.1
		done
		wait "$ENG_CONTAINERD" 2>/dev/null || true
	fi
	eng_teardown
}

IMG=localhost/husk-busybox:test
NS=husk-test

# c_ctr ARGS: ctr against the private daemon, in the private namespace
c_ctr() {
	eng_ns ctr --address "$ENG_TMP/containerd/sock" --namespace "$NS" "$@"
}

# crun ARGS... ID CMD...: ctr run through the shim with husk
crun_opts() {
	echo --runc-binary "$ENG_RUNC_BINARY" --runc-root "$ENG_TMP/containerd/husk-root"
}
c_run() {
	# shellcheck disable=SC2046
	c_ctr run $(crun_opts) "$@"
}

# cgroup_of ID: ctr's default cgroup for ID under the run's parent
cg() {
	echo "/$ENG_CGROUP/$1"
}

@test "containerd: ctr run --rm prints the output and returns the exit code" {
	run c_run --rm --cgroup "$(cg r1)" "$IMG" r1 echo hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	run c_run --rm --cgroup "$(cg r2)" "$IMG" r2 sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run c_ctr containers ls -q
	[ -z "$output" ]
	# the shim ran husk: its state root has held the containers
	[ -d "$ENG_TMP/containerd/husk-root" ]
}

@test "containerd: task exec with and without a terminal" {
	c_run -d --cgroup "$(cg ex)" "$IMG" ex sleep 1000
	run c_ctr tasks exec --exec-id e1 ex sh -c 'echo out; tty; exit 7'
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = out ]
	[ "${lines[1]}" = "not a tty" ]
	# -t wants a terminal on ctr's side: script(1) gives it one
	run eng_ns script -qec "ctr --address $ENG_TMP/containerd/sock --namespace $NS tasks exec -t --exec-id e2 ex tty" /dev/null
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	# (the line may start with the tty's echo of what ctr wrote to its
	# input, such as "^@" for a NUL byte: the terminal's, not husk's)
	[[ "${lines[0]}" == *"/dev/pts/"[0-9]* ]]
	c_ctr tasks kill -s SIGKILL ex
	c_ctr tasks delete -f ex >/dev/null 2>&1 || true
	c_ctr containers delete ex
}

@test "containerd: metrics, pause and resume, memory limit" {
	c_run -d --memory-limit 67108864 --cgroup "$(cg pz)" "$IMG" pz sleep 1000
	run c_ctr tasks metrics pz
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ memory.limit_in_bytes\ +67108864 ]]
	[[ "$output" =~ pids.current\ +1 ]]
	local pid
	pid=$(c_ctr tasks ls | awk '$1 == "pz" { print $2 }')
	[ "$(cat "/sys/fs/cgroup/memory$(cg pz)/memory.limit_in_bytes")" = 67108864 ]
	grep -q "^$pid\$" "/sys/fs/cgroup/memory$(cg pz)/cgroup.procs"
	# task ps is husk ps --format json
	run c_ctr tasks ps pz
	[ "$status" -eq 0 ]
	[[ "$output" =~ (^|$'\n')$pid\  ]]
	run c_ctr tasks pause pz
	[ "$status" -eq 0 ]
	run c_ctr tasks ls
	[[ "$output" == *"pz "*PAUSED* ]]
	[ "$(cat "/sys/fs/cgroup/freezer$(cg pz)/freezer.state")" = FROZEN ]
	run c_ctr tasks resume pz
	[ "$status" -eq 0 ]
	[ "$(cat "/sys/fs/cgroup/freezer$(cg pz)/freezer.state")" = THAWED ]
	run c_ctr tasks ls
	[[ "$output" == *"pz "*RUNNING* ]]
	c_ctr tasks kill -s SIGKILL pz
	c_ctr tasks delete -f pz >/dev/null 2>&1 || true
	c_ctr containers delete pz
}

@test "containerd: kill with a signal the task handles, and SIGKILL" {
	c_run -d --cgroup "$(cg k1)" "$IMG" k1 sh -c 'trap "exit 5" USR1; while :; do sleep 0.1; done'
	sleep 0.5
	run c_ctr tasks kill -s SIGUSR1 k1
	[ "$status" -eq 0 ]
	local i
	for i in $(seq 50); do
		c_ctr tasks ls | grep -q "^k1 .*STOPPED" && break
		sleep 0.1
	done
	run c_ctr tasks delete k1
	echo "status $status: $output"
	[[ "$output" == *"task k1 exit with non-zero exit code 5"* ]]
	c_ctr containers delete k1
	c_run -d --cgroup "$(cg k2)" "$IMG" k2 sleep 1000
	run c_ctr tasks kill -s SIGKILL k2
	[ "$status" -eq 0 ]
	for i in $(seq 50); do
		c_ctr tasks ls | grep -q "^k2 .*STOPPED" && break
		sleep 0.1
	done
	run c_ctr tasks ls
	[[ "$output" == *"k2 "*STOPPED* ]]
	c_ctr tasks delete k2
	c_ctr containers delete k2
}

@test "containerd: ctr run -t gives the task a terminal" {
	local cmd
	cmd=$(printf '%q ' ctr --address "$ENG_TMP/containerd/sock" --namespace "$NS" run --rm -t $(crun_opts) \
		--cgroup "$(cg tt)" "$IMG" tt sh -c 'tty; test -t 1 && echo all-ttys; exit 6')
	run eng_ns script -qec "$cmd" /dev/null </dev/null
	echo "status $status: $output"
	[ "$status" -eq 6 ]
	# script(1) echoes its empty stdin as ^@ on the raw terminal (with runc too)
	[[ "$(tr -d '\r' <<<"${lines[0]}")" =~ ^(\^@)?/dev/pts/[0-9]+$ ]]
	[ "$(tr -d '\r' <<<"${lines[1]}")" = all-ttys ]
}
