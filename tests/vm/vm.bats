#!/usr/bin/env bats
# The tests/vm harness itself, run on the host: the guest tests/vm/run
# boots has a pure cgroup v2 hierarchy and what a test needs, and run
# passes the command, its output and its exit status through.
load ../bats/helpers

VM_RUN=$BATS_TEST_DIRNAME/run
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# One boot answers most questions: the probe prints "key=value" lines.
setup_file() {
	SHARED=$(mktemp -d "$REPO/tests/vm/.test-XXXXXX")
	export SHARED
	echo "from the host" >"$SHARED/host-file"
	cd "$SHARED" || return 1
	VM_TEST_VAR="spaces and 'quotes' \$x" "$VM_RUN" sh -c '
		echo "cgroup_fs=$(stat -fc %T /sys/fs/cgroup)"
		echo "controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
		echo "subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
		echo "v1_mounts=$(awk "\$3 == \"cgroup\"" /proc/mounts | wc -l)"
		echo "self_cgroup=$(tr "\n" " " </proc/self/cgroup)"
		for m in /proc /sys /dev /dev/pts /tmp /run; do
			echo "mount$m=$(awk -v m=$m "\$2 == m { t = \$3 } END { print t }" /proc/mounts)"
		done
		touch /tmp/w /run/w && echo tmp_run_writable=yes
		echo "root_propagation=$(findmnt -no PROPAGATION /)"
		echo "lo_flags=$(cat /sys/class/net/lo/flags)"
		echo "hostname=$(hostname)"
		echo "uid=$(id -u)"
		echo "pwd=$PWD"
		echo "args=$1|$2"
		echo "env=$VM_TEST_VAR"
		echo "host_file=$(cat host-file)"
		echo "from the guest" >guest-file
		echo "bats=$(bats --version)"
		echo "jq=$(echo "{\"a\": [1, 2]}" | jq -c .a)"
	' probe 'one arg' 'two"' >"$BATS_FILE_TMPDIR/probe" 2>"$BATS_FILE_TMPDIR/probe-stderr" &&
		echo 0 >"$BATS_FILE_TMPDIR/probe-status" ||
		echo $? >"$BATS_FILE_TMPDIR/probe-status"
}

teardown_file() {
	[ -n "${SHARED:-}" ] && rm -rf "$SHARED"
}

probe() {
	sed -n "s|^$1=||p" "$BATS_FILE_TMPDIR/probe"
}

@test "vm: the probe ran and exited 0" {
	cat "$BATS_FILE_TMPDIR/probe-stderr"
	[ "$(cat "$BATS_FILE_TMPDIR/probe-status")" = 0 ]
}

@test "vm: /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted" {
	[ "$(probe cgroup_fs)" = cgroup2fs ]
	[ "$(probe v1_mounts)" = 0 ]
	[ "$(probe self_cgroup)" = "0::/ " ]
}

@test "vm: every controller is enabled in the root's cgroup.subtree_control" {
	local c
	for c in cpu memory pids io; do
		[[ " $(probe subtree) " == *" $c "* ]] || { echo "no $c in: $(probe subtree)"; false; }
	done
	[ "$(probe subtree)" = "$(probe controllers)" ]
}

@test "vm: the guest has proc, sysfs, devtmpfs, devpts, writable /tmp and /run, shared /" {
	[ "$(probe mount/proc)" = proc ]
	[ "$(probe mount/sys)" = sysfs ]
	[ "$(probe mount/dev)" = devtmpfs ]
	[ "$(probe mount/dev/pts)" = devpts ]
	[ "$(probe mount/tmp)" = tmpfs ]
	[ "$(probe mount/run)" = tmpfs ]
	[ "$(probe tmp_run_writable)" = yes ]
	[ "$(probe root_propagation)" = shared ]
}

@test "vm: loopback is up, hostname is set, the command runs as root" {
	(( $(probe lo_flags) & 1 ))
	[ "$(probe hostname)" = husk-vm ]
	[ "$(probe uid)" = 0 ]
}

@test "vm: working directory, arguments and environment pass through" {
	[ "$(probe pwd)" = "$SHARED" ]
	[ "$(probe args)" = 'one arg|two"' ]
	[ "$(probe env)" = "spaces and 'quotes' \$x" ]
}

@test "vm: the repository is shared read-write with the host" {
	[ "$(probe host_file)" = "from the host" ]
	[ "$(cat "$SHARED/guest-file")" = "from the guest" ]
}

@test "vm: bats and jq from the host's root work in the guest" {
	[[ "$(probe bats)" == Bats* ]]
	[ "$(probe jq)" = "[1,2]" ]
}

@test "vm: exit status, stdout and stderr come back separately" {
	run --separate-stderr "$VM_RUN" sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
	[ "$status" = 7 ]
	[ "$output" = to-stdout ]
	[ "$stderr" = to-stderr ]
}

@test "vm: a command that outlives HUSK_VM_TIMEOUT is killed, leaving nothing behind" {
	local tmp=$BATS_TEST_TMPDIR/runs
	mkdir "$tmp"
	TMPDIR=$tmp HUSK_VM_TIMEOUT=5 run --separate-stderr "$VM_RUN" sleep 600
	[ "$status" = 124 ]
	[[ "$stderr" == *"timed out after 5s"* ]]
	# the per-run directory is gone and no qemu uses it any more
	[ -z "$(ls -A "$tmp")" ]
	[ -z "$(pgrep -f "$tmp")" ]
}

@test "vm: two runs at once do not collide" {
	"$VM_RUN" sh -c 'echo first; exit 3' >"$BATS_TEST_TMPDIR/1" 2>&1 &
	local first=$!
	"$VM_RUN" sh -c 'echo second; exit 4' >"$BATS_TEST_TMPDIR/2" 2>&1 &
	local second=$!
	local s1=0 s2=0
	wait "$first" || s1=$?
	wait "$second" || s2=$?
	[ "$s1" = 3 ]
	[ "$s2" = 4 ]
	[ "$(cat "$BATS_TEST_TMPDIR/1")" = first ]
	[ "$(cat "$BATS_TEST_TMPDIR/2")" = second ]
}

@test "vm: HUSK_VM_INIT=systemd boots systemd as PID 1 with the system bus; the status comes back" {
	run --separate-stderr env HUSK_VM_INIT=systemd "$VM_RUN" sh -c '
		echo "pid1=$(cat /proc/1/comm)"
		echo "bus=$(busctl --system get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Version)"
		echo "cgroup=$(cat /proc/self/cgroup)"
		exit 5'
	echo "$output $stderr"
	[ "$status" = 5 ]
	[[ "$output" == *"pid1=systemd"* ]]
	[[ "$output" == *'bus=s "252'* ]]
	[[ "$output" == *"cgroup=0::/system.slice/husk-vm-cmd.service"* ]]
}

@test "vm: an unknown HUSK_VM_INIT is a usage error" {
	run --separate-stderr env HUSK_VM_INIT=upstart "$VM_RUN" true
	[ "$status" = 2 ]
	[[ "$stderr" == *"HUSK_VM_INIT must be bash or systemd, not 'upstart'"* ]]
}
