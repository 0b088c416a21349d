#!/usr/bin/env bats
# checkpoint and restore with CRIU (husk drives `criu swrk` over its RPC).
# Where `criu check` fails (a kernel CRIU does not know), the round-trip
# tests skip with what it said; make check-vm runs them in the v2 guest.
# The failure tests run wherever criu is installed: a restore that fails
# must leave nothing behind, whatever stopped CRIU.

load helpers

setup_file() {
	CRIU_SKIP=
	if ! command -v criu >/dev/null 2>&1; then
		CRIU_SKIP="criu is not installed (apt-get install criu)"
	elif [ "$(id -u)" != 0 ]; then
		CRIU_SKIP="CRIU needs root"
	else
		local out
		if ! out=$(criu check 2>&1); then
			CRIU_SKIP="criu check fails on this kernel ($(uname -r)): $(grep -m3 -i 'error\|fail' <<<"$out" | tr '\n' ' ')"
		fi
	fi
	export CRIU_SKIP
}

require_criu() {
	[ -z "$CRIU_SKIP" ] || skip "$CRIU_SKIP"
}

setup() {
	require_root
	command -v criu >/dev/null 2>&1 || skip "criu is not installed (apt-get install criu)"
	setup_common
	make_bundle "$BUNDLE"
	mkdir -p "$TEST_TMP/out"
	# the counter lives in the shell's memory; each value is also written
	# to a bind mount, so the test sees where it is. The container's stdio
	# becomes its own /dev/null first: the test's files are not in it.
	update_config "$BUNDLE" '.mounts += [{"destination": "/out", "type": "bind", "source": "'"$TEST_TMP/out"'", "options": ["rbind"]}]'
	# It also reads a line a round from a file it keeps open (fd 3): its
	# offset must survive too.
	seq 1000 >"$BUNDLE/rootfs/lines"
	set_args "$BUNDLE" sh -c 'exec </dev/null >/dev/null 2>&1 3</lines; i=0; while :; do i=$((i+1)); echo $i >>/out/count; read -r l <&3; echo $l >>/out/read; sleep 1; done'
	ID=$(ctr_id cr)
	IMG=$TEST_TMP/img
}

teardown() {
	local p
	for p in ${RECV_PIDS:-}; do kill "$p" 2>/dev/null || true; done
	if [ -d "$TEST_TMP/podman/root" ]; then
		pod rm -a -f -t 0 >/dev/null 2>&1 || true
		umount -R "$TEST_TMP/podman/root" "$TEST_TMP/podman/run" 2>/dev/null || true
	fi
	teardown_common
}

# pod ARGS: podman with the test's private storage and state, husk as its
# runtime, cgroups by its cgroupfs manager
pod() {
	local p=$TEST_TMP/podman
	CONTAINERS_REGISTRIES_CONF=$p/registries.conf \
		podman --root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" --storage-driver vfs \
		--events-backend file --cgroup-manager cgroupfs --runtime "$HUSK_BIN" "$@"
}

RECVTTY=${HUSK_BUILDDIR}/tests/tools/recvtty

# start_receiver NAME [INPUT]: recvtty on $TEST_TMP/NAME.sock, what the pty
# prints in $TEST_TMP/NAME.out, INPUT written to the pty once it has it;
# returns once it listens
start_receiver() {
	[ -x "$RECVTTY" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	"$RECVTTY" "$TEST_TMP/$1.sock" ${2:+"$2"} >"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" &
	RECV_PIDS="${RECV_PIDS:-} $!"
	local i
	for i in $(seq 200); do
		grep -q ready "$TEST_TMP/$1.err" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TEST_TMP/$1.err" >&2
	return 1
}

# wait_output NAME TEXT: until the pty output NAME.out has TEXT (60 s)
wait_output() {
	local i
	for i in $(seq 600); do
		grep -qF "$2" "$TEST_TMP/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no '$2' in $1.out: $(cat -v "$TEST_TMP/$1.out")" >&2
	return 1
}

# counter: the last value written ("" when none yet); read by the shell
# itself, no process (the guest is slow at forking).
counter() {
	local values=()
	mapfile -t values <"$TEST_TMP/out/count" 2>/dev/null || true
	[ "${#values[@]}" = 0 ] || echo "${values[-1]}"
}

# counted_in_order [FILE]: the values written (to count, or FILE in out/)
# are 1, 2, 3, ... with no gap and no new start: one process counted them
# all, across checkpoints.
counted_in_order() {
	local values=() i
	mapfile -t values <"$TEST_TMP/out/${1:-count}"
	for i in "${!values[@]}"; do
		if [ "${values[i]}" != $((i + 1)) ]; then
			echo "value $((i + 1)) written as '${values[i]}': ${values[*]}" >&2
			return 1
		fi
	done
}

# wait_counter_above N: until the counter is over N (60 s at most: the
# emulated guest is slow).
wait_counter_above() {
	local i v
	for i in $(seq 600); do
		v=$(counter)
		[ -n "$v" ] && [ "$v" -gt "$1" ] && return 0
		sleep 0.1
	done
	echo "counter stayed at '$(counter)', not above $1" >&2
	return 1
}

start_counter() {
	husk_nowait run -d -b "$BUNDLE" "$1"
	wait_for_status "$1" running
	wait_counter_above 2
}

@test "checkpoint: the counter in memory and a file offset survive checkpoint, delete and restore" {
	require_criu
	update_config "$BUNDLE" '.linux.resources.pids.limit = 77'
	start_counter "$ID"
	pid=$(husk state "$ID" | jq -r .pid)
	run husk checkpoint --image-path "$IMG" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# as runc: the checkpointed container is gone
	[ ! -e "$HUSK_ROOT/$ID" ]
	process_gone "$pid"
	[ -z "$(cgroup_dirs "$ID")" ]
	[ -s "$IMG/inventory.img" ]
	before=$(counter)

	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(container_status "$ID")" = running ]
	# the shell went on from where it was: the values after the checkpoint
	# follow the last one written before it (a fresh start would write 1)
	wait_counter_above "$before"
	counted_in_order
	# and read on from where its file offset was
	counted_in_order read
	# the restored init is the container's pid 1 again, in its cgroup
	newpid=$(cat "$TEST_TMP/pid")
	[ "$(husk state "$ID" | jq -r .pid)" = "$newpid" ]
	grep -q '^NSpid:.*[[:space:]]1$' "/proc/$newpid/status"
	grep -qx "0::/$ID" "/proc/$newpid/cgroup" || grep -q ":/$ID\$" "/proc/$newpid/cgroup"
	# with the config's limits
	pids_max=$(cat "/sys/fs/cgroup/$ID/pids.max" 2>/dev/null || cat "/sys/fs/cgroup/pids/$ID/pids.max")
	[ "$pids_max" = 77 ]
}

@test "checkpoint: state, ps, kill and delete work on a container restored from a copied bundle" {
	require_criu
	start_counter "$ID"
	husk checkpoint --image-path "$IMG" "$ID"
	# another bundle, with a copy of the rootfs without the mount point
	# create made in it (/out): restore makes it
	mkdir "$TEST_TMP/copy"
	cp -a "$BUNDLE/rootfs" "$BUNDLE/config.json" "$TEST_TMP/copy/"
	rmdir "$TEST_TMP/copy/rootfs/out"
	run husk_nowait restore -d --image-path "$IMG" -b "$TEST_TMP/copy" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -d "$TEST_TMP/copy/rootfs/out" ]
	pid=$(husk state "$ID" | jq -r .pid)
	[ "$(husk state "$ID" | jq -r .status)" = running ]
	[ "$(husk state "$ID" | jq -r .bundle)" = "$TEST_TMP/copy" ]
	before=$(counter)
	wait_counter_above "$before"
	run husk ps --format json "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pid"* ]]
	husk kill "$ID" KILL
	wait_for_status "$ID" stopped
	husk delete "$ID"
	assert_nothing_left "$ID"
	process_gone "$pid"
}

@test "checkpoint --leave-running: the original keeps running; its image restores under a new id" {
	require_criu
	start_counter "$ID"
	pid=$(husk state "$ID" | jq -r .pid)
	run husk checkpoint --leave-running --image-path "$IMG" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(container_status "$ID")" = running ]
	[ "$(husk state "$ID" | jq -r .pid)" = "$pid" ]
	now=$(counter)
	wait_counter_above "$now"
	counted_in_order

	# a second container from the image while the first still runs
	ID2=$(ctr_id cr2)
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID2"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(container_status "$ID2")" = running ]
	[ "$(container_status "$ID")" = running ]
	pid2=$(husk state "$ID2" | jq -r .pid)
	[ "$pid2" != "$pid" ]
	grep -qx "0::/$ID2" "/proc/$pid2/cgroup" || grep -q ":/$ID2\$" "/proc/$pid2/cgroup"
}

@test "checkpoint --pre-dump, then a dump on top of it: the chain restores" {
	require_criu
	start_counter "$ID"
	run husk checkpoint --pre-dump --image-path "$TEST_TMP/pre" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# a pre-dump leaves the container running
	[ "$(container_status "$ID")" = running ]
	[ -n "$(ls "$TEST_TMP/pre"/pagemap-*.img)" ]
	run husk checkpoint --parent-path ../pre --image-path "$IMG" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$ID" ]
	# the dump's memory refers to its parent's
	[ "$(readlink "$IMG/parent")" = ../pre ]
	before=$(counter)
	husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	wait_counter_above "$before"
	counted_in_order
}

@test "checkpoint: restore in the foreground waits for the container, exits with its status, deletes it" {
	require_criu
	start_counter "$ID"
	husk checkpoint --image-path "$IMG" "$ID"
	husk restore --image-path "$IMG" -b "$BUNDLE" "$ID" </dev/null >"$TEST_TMP/fg.out" 2>&1 &
	fg=$!
	wait_for_status "$ID" running
	husk kill "$ID" KILL
	rc=0
	wait "$fg" || rc=$?
	cat "$TEST_TMP/fg.out"
	[ "$rc" = 137 ]
	assert_nothing_left "$ID"
}

@test "checkpoint: a restore CRIU refuses names its log and leaves nothing behind" {
	# an image directory with no images in it
	mkdir -p "$IMG"
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu restore failed"* ]]
	[[ "$output" == *"log $IMG/restore.log"* ]]
	[ -s "$IMG/restore.log" ]
	assert_nothing_left "$ID"
	run grep -c criu-root /proc/self/mountinfo
	[ "$output" = 0 ]
	run husk list -q
	[ -z "$output" ]
}

@test "checkpoint: a criu that cannot be run is named; nothing is left" {
	run husk_nowait --criu "$TEST_TMP/no-such-criu" restore -d --image-path "$TEST_TMP" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$TEST_TMP/no-such-criu could not be run"* ]]
	assert_nothing_left "$ID"
	start_counter "$ID"
	run husk --criu "$TEST_TMP/no-such-criu" checkpoint --image-path "$IMG" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"no-such-criu could not be run"* ]]
	# a failed checkpoint leaves the container as it was
	[ "$(container_status "$ID")" = running ]
}

@test "checkpoint: a container that is not running is refused, naming its status" {
	husk_nowait create -b "$BUNDLE" "$ID"
	run husk checkpoint --image-path "$IMG" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot checkpoint container "*"$ID"*": it is created, not running"* ]]
	run husk checkpoint --manage-cgroups-mode bogus "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--manage-cgroups-mode: \"bogus\" is not soft, full, strict or ignore"* ]]
}

# checkpoint_restore ID: checkpoint ID into $IMG and restore it detached
# from $BUNDLE, the counter going on.
checkpoint_restore() {
	run husk checkpoint --image-path "$IMG" "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$1" ]
	local before
	before=$(counter)
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_counter_above "$before"
	counted_in_order
}

@test "checkpoint: bind mounts, masked and read-only paths are as they were after a restore" {
	require_criu
	mkdir "$TEST_TMP/data"
	echo "bound content" >"$TEST_TMP/data/file"
	update_config "$BUNDLE" '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/data"'", "options": ["rbind", "ro"]}]'
	start_counter "$ID"
	checkpoint_restore "$ID"
	# the read-only bind: mounted, its content readable, still read-only
	run husk exec "$ID" cat /data/file
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "bound content" ]
	run husk exec "$ID" sh -c 'echo x >/data/new'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$TEST_TMP/data/new" ]
	# (the read-write bind /out took the counter's values: counted_in_order)
	# a masked file is /dev/null (character device 1:3, nothing to read);
	# a masked directory an empty tmpfs
	run husk exec "$ID" sh -c 'stat -c %t:%T /proc/kcore; wc -c </proc/kcore; ls -A /sys/firmware | wc -l'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1:3 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 0 ]
	# a read-only path stays read-only (the hostname is the container's
	# own UTS namespace's: a write would be harmless, but must fail)
	run husk exec "$ID" sh -c 'echo other >/proc/sys/kernel/hostname'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "checkpoint: a TCP socket listening in the container's network namespace answers after a restore" {
	require_criu
	mkdir "$BUNDLE/rootfs/www"
	echo "answer from the container" >"$BUNDLE/rootfs/www/index.html"
	# husk leaves lo down in a new network namespace: the container brings
	# it up itself
	update_config "$BUNDLE" '.process.capabilities.bounding += ["CAP_NET_ADMIN"] | .process.capabilities.effective += ["CAP_NET_ADMIN"] | .process.capabilities.permitted += ["CAP_NET_ADMIN"]'
	set_args "$BUNDLE" sh -c 'exec </dev/null >/dev/null 2>&1; ip link set lo up; httpd -f -p 127.0.0.1:8080 -h /www & i=0; while :; do i=$((i+1)); echo $i >>/out/count; sleep 1; done'
	start_counter "$ID"
	run husk exec "$ID" wget -qO- http://127.0.0.1:8080/
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "answer from the container" ]
	listener=$(husk exec "$ID" pidof httpd)
	checkpoint_restore "$ID"
	# the same server (its pid in the container is the same), listening
	# in the restored namespace, answers a client run in it
	[ "$(husk exec "$ID" pidof httpd)" = "$listener" ]
	run husk exec "$ID" wget -qO- http://127.0.0.1:8080/
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "answer from the container" ]
	# and only there: the host's 127.0.0.1:8080 is not it
	run wget -T 2 -qO- http://127.0.0.1:8080/
	[ "$output" != "answer from the container" ]
}

@test "checkpoint: a terminal container restored with a new console socket: what is typed reaches the process, its answer comes back" {
	require_criu
	update_config "$BUNDLE" '.process.terminal = true'
	# counts the lines it reads from its terminal, in memory
	set_args "$BUNDLE" sh -c 'i=0; while read -r l; do i=$((i+1)); echo "got $l $i"; done'
	start_receiver first "one
"
	run husk_nowait run -d --console-socket "$TEST_TMP/first.sock" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_output first "got one 1"
	run husk checkpoint --image-path "$IMG" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# detached, the new pty's master needs a socket
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.terminal is set: --detach needs --console-socket"* ]]
	assert_nothing_left "$ID"

	start_receiver second "two
"
	run husk_nowait restore -d --console-socket "$TEST_TMP/second.sock" --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# the line typed into the new master reached the same shell (its
	# count went on), and its answer came back through the new pty
	wait_output second "got two 2"
	# which is the restored process's terminal, in the container's devpts
	run husk exec "$ID" readlink /proc/1/fd/0
	echo "$output"
	[[ "$output" == /dev/pts/* ]]

	# again, restored in the foreground without a console socket: husk
	# relays the new pty to its own terminal, as run does
	command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
	run husk checkpoint --image-path "$TEST_TMP/img2" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	on_terminal third restore --image-path "$TEST_TMP/img2" -b "$BUNDLE" "$ID"
	exec 8<>"$TEST_TMP/third.in"
	for i in $(seq 600); do
		[ "$(container_status "$ID" 2>/dev/null)" = running ] && break
		sleep 0.1
	done
	echo three >&8
	wait_output third "got three 3"
	# (before its input ends: a shell that reads EOF exits)
	husk kill "$ID" KILL
	exec 8>&-
}

# hook_script NAME: an executable that appends "ARG1 STATE-JSON" to
# $TEST_TMP/hooks.log, and fails with 7 while $TEST_TMP/fail-ARG1 exists
hook_script() {
	cat >"$TEST_TMP/$1" <<HOOK
#!/bin/sh
printf '%s %s\n' "\$1" "\$(cat)" >>"$TEST_TMP/hooks.log"
[ ! -e "$TEST_TMP/fail-\$1" ] || exit 7
HOOK
	chmod +x "$TEST_TMP/$1"
}

@test "checkpoint: restore runs the prestart and createRuntime hooks with the restored init's pid" {
	require_criu
	hook_script hook.sh
	update_config "$BUNDLE" '.hooks = {"prestart": [{"path": "'"$TEST_TMP/hook.sh"'", "args": ["hook.sh", "prestart"]}], "createRuntime": [{"path": "'"$TEST_TMP/hook.sh"'", "args": ["hook.sh", "createRuntime"]}]}'
	start_counter "$ID"
	: >"$TEST_TMP/hooks.log"
	run husk checkpoint --image-path "$IMG" "$ID"
	[ "$status" -eq 0 ]
	before=$(counter)
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	cat "$TEST_TMP/hooks.log"
	# each once, prestart first, with the state of the container being
	# restored: its id, status creating, the restored init's pid
	mapfile -t hooks <"$TEST_TMP/hooks.log"
	[ "${#hooks[@]}" = 2 ]
	[ "${hooks[0]%% *}" = prestart ]
	[ "${hooks[1]%% *}" = createRuntime ]
	newpid=$(cat "$TEST_TMP/pid")
	for h in "${hooks[@]}"; do
		[ "$(jq -r '"\(.id) \(.status) \(.pid) \(.bundle)"' <<<"${h#* }")" = "$ID creating $newpid $BUNDLE" ]
	done
	wait_counter_above "$before"
	counted_in_order

	# a hook that fails stops the restore: CRIU undoes it, nothing is left
	husk checkpoint --image-path "$TEST_TMP/img2" "$ID"
	touch "$TEST_TMP/fail-createRuntime"
	run husk_nowait restore -d --image-path "$TEST_TMP/img2" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"createRuntime"*"hook.sh"*"7"* ]]
	[[ "$output" == *"criu restore failed (log $TEST_TMP/img2/restore.log)"* ]]
	assert_nothing_left "$ID" "3</lines"
	run grep -c criu-root /proc/self/mountinfo
	[ "$output" = 0 ]
}

@test "checkpoint: podman container checkpoint and restore with husk: the process goes on writing to its log" {
	require_criu
	command -v podman >/dev/null && command -v conmon >/dev/null ||
		skip "podman and conmon are not installed (contrib/deps.sh test)"
	local p=$TEST_TMP/podman cid last i
	mkdir -p "$p/tmp"
	echo 'unqualified-search-registries = []' >"$p/registries.conf"
	tar -C "$BUNDLE/rootfs" -cf "$TEST_TMP/rootfs.tar" .
	pod import "$TEST_TMP/rootfs.tar" localhost/husk-cr:test >/dev/null
	# its stdout is a pipe conmon reads into the container's log
	cid=$(pod run -d --network none localhost/husk-cr:test sh -c 'i=0; while :; do i=$((i+1)); echo "count $i"; sleep 1; done')
	for i in $(seq 600); do
		pod logs "$cid" 2>/dev/null | grep -qx "count 2" && break
		sleep 0.1
	done
	run pod container checkpoint "$cid"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pod inspect -f '{{.State.Status}}' "$cid")" = exited ]
	# husk wrote what the stdio fds were: stdout a pipe
	run jq -r '.[1]' "$p/root/vfs-containers/$cid/userdata/checkpoint/descriptors.json"
	echo "$output"
	[[ "$output" == "pipe:["*"]" ]]
	last=$(pod logs "$cid" | tail -n 1)
	last=${last#count }

	run pod container restore "$cid"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pod inspect -f '{{.State.Status}}' "$cid")" = running ]
	# the same shell writes on, to conmon's new pipe: the next values
	# follow the last one before the checkpoint (a new start would write
	# "count 1" again)
	for i in $(seq 600); do
		pod logs "$cid" | grep -qx "count $((last + 2))" && break
		sleep 0.1
	done
	run pod logs "$cid"
	[[ "$output" == *"count $((last + 1))"*"count $((last + 2))"* ]]
	[ "$(grep -cx "count 1" <<<"$output")" = 1 ]
	pod rm -f -t 0 "$cid"
	pod rmi -f localhost/husk-cr:test >/dev/null
}

# on_terminal NAME ARGS...: husk ARGS in the foreground on a pty of its
# own (script(1) holds the master): what NAME.in's writer sends is typed
# into it, what the pty prints lands in NAME.out. Returns at once; the
# caller then opens NAME.in as fd 8, read-write (opened for writing only, a
# fifo blocks while no one reads it: when husk failed at once); never as
# fd 3, where bats writes its results.
on_terminal() {
	local name=$1
	shift
	mkfifo "$TEST_TMP/$name.in"
	script -qfec "$(printf '%q ' "$HUSK_BIN" --root "$HUSK_ROOT" "$@")" /dev/null \
		<"$TEST_TMP/$name.in" >"$TEST_TMP/$name.out" 2>&1 &
	RECV_PIDS="${RECV_PIDS:-} $!"
}

@test "checkpoint --shell-job: a container run from a terminal is restored onto the terminal of the restore" {
	require_criu
	command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
	# no terminal of its own: its stdio is the terminal husk runs on
	set_args "$BUNDLE" sh -c 'i=0; while read -r l; do i=$((i+1)); echo "got $l $i"; done'
	on_terminal first run -b "$BUNDLE" "$ID"
	exec 8<>"$TEST_TMP/first.in"
	echo one >&8
	wait_output first "got one 1"
	# a terminal outside the container: CRIU refuses it without --shell-job
	run husk checkpoint --leave-running --image-path "$TEST_TMP/refused" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu dump failed"*"log $TEST_TMP/refused/dump.log"* ]]
	[ "$(container_status "$ID")" = running ]
	run husk checkpoint --shell-job --image-path "$IMG" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	exec 8>&-

	on_terminal second restore --shell-job --image-path "$IMG" -b "$BUNDLE" "$ID"
	exec 8<>"$TEST_TMP/second.in"
	for i in $(seq 600); do
		[ "$(container_status "$ID" 2>/dev/null)" = running ] && break
		sleep 0.1
	done
	echo two >&8
	# the same shell (its count went on) reads and answers on the new
	# terminal
	wait_output second "got two 2"
	# (before its input ends: a shell that reads EOF exits)
	husk kill "$ID" KILL
	exec 8>&-
}

@test "checkpoint: a descriptors.json that is not an array of strings in a regular file is refused, naming it; nothing is left" {
	mkdir -p "$IMG"
	echo '{"stdin": "pipe:[1]"}' >"$IMG/descriptors.json"
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--image-path $IMG: descriptors.json: is an object, not an array"* ]]
	assert_nothing_left "$ID"
	echo '["pipe:[1]", 7]' >"$IMG/descriptors.json"
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"descriptors.json[1]: is a number, not a string"* ]]
	assert_nothing_left "$ID"
	# never followed, never read from a fifo (which would block)
	rm "$IMG/descriptors.json"
	ln -s /dev/zero "$IMG/descriptors.json"
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"descriptors.json: Too many levels of symbolic links"* ]]
	rm "$IMG/descriptors.json"
	mkfifo "$IMG/descriptors.json"
	run husk_nowait restore -d --image-path "$IMG" -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"descriptors.json: not a regular file"* ]]
	assert_nothing_left "$ID"
	run grep -c criu-root /proc/self/mountinfo
	[ "$output" = 0 ]
}
