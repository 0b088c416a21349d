#!/usr/bin/env bats
# Faults: a damaged state.json, husk SIGKILLed at random points of every
# verb, the container init killed at each phase, a full --root file system
# and no fds left. After each, `delete --force` must remove everything the
# container had: its state directory, its cgroup directories in every
# hierarchy, its mounts, its processes, its fifo. Bounded: about 15 rounds
# per verb.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	ID=$(ctr_id fault)
	MARKER="marker-${TEST_TMP##*.}"
	# no exec: the shell keeps the marker in its command line
	set_args "$BUNDLE" /bin/sh -c "sleep 100; echo $MARKER"
}

teardown() {
	# the full-root test's root is a tmpfs of its own: clear it first
	if mountpoint -q "$TEST_TMP/small"; then
		rm -f "$TEST_TMP/small/fill"
		local id
		for id in $(husk list -q 2>/dev/null); do
			husk delete --force "$id" >/dev/null 2>&1 || true
		done
		umount "$TEST_TMP/small"
	fi
	teardown_common
}

# assert_all_gone ID [PID...]: nothing of container ID is left: no state
# dir, no cgroup dir in any hierarchy (v1 controllers, systemd, unified), no
# process in such a cgroup or with the marker in its command line, none of
# the given pids alive, no mount under the test dir.
assert_all_gone() {
	local id=$1 p
	shift
	assert_nothing_left "$id" "$MARKER" || return 1
	if [ -e "$HUSK_ROOT/$id" ]; then
		echo "state dir left: $(ls -la "$HUSK_ROOT/$id")" >&2
		return 1
	fi
	for p in "$@"; do
		if ! process_gone "$p"; then
			echo "process $p is still alive: $(cat "/proc/$p/cmdline" | tr '\0' ' ')" >&2
			return 1
		fi
	done
	if grep -l -- "/$id\$" /proc/[0-9]*/cgroup 2>/dev/null; then
		echo "processes left in the cgroup of $id" >&2
		return 1
	fi
	if grep -F -- "$TEST_TMP" /proc/self/mountinfo | grep -v -F -- "$TEST_TMP/small"; then
		echo "mounts left under $TEST_TMP" >&2
		return 1
	fi
	return 0
}

# start_running ID: a running container; prints its init's pid.
start_running() {
	husk_nowait run -d -b "$BUNDLE" "$1" >&2 || return 1
	husk state "$1" | jq -r .pid
}

# delete_recovers ID PID WHAT: husk list, state and delete of a container
# whose state.json is damaged neither hang nor succeed silently, and
# delete --force removes everything.
delete_recovers() {
	local id=$1 pid=$2 what=$3
	run timeout 20 "$HUSK_BIN" --root "$HUSK_ROOT" list
	echo "list: $status $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$id"*damaged* ]]
	[[ "$output" == *"$HUSK_ROOT/$id/state.json"*"$what"* ]]
	run timeout 20 "$HUSK_BIN" --root "$HUSK_ROOT" list -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"$id"* ]]
	run timeout 20 "$HUSK_BIN" --root "$HUSK_ROOT" state "$id"
	echo "state: $status $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HUSK_ROOT/$id/state.json"*"$what"* ]]
	run timeout 20 "$HUSK_BIN" --root "$HUSK_ROOT" delete "$id"
	echo "delete: $status $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--force"* ]]
	kill -0 "$pid"
	run timeout 20 "$HUSK_BIN" --root "$HUSK_ROOT" delete --force "$id"
	echo "delete --force: $status $output"
	[ "$status" -eq 0 ]
	assert_all_gone "$id" "$pid"
	# the id is free again
	husk_nowait create -b "$BUNDLE" "$id"
	husk delete --force "$id"
}

@test "state.json replaced by a fifo: list, state and delete do not hang; delete --force removes everything" {
	local pid
	pid=$(start_running "$ID")
	rm "$HUSK_ROOT/$ID/state.json"
	mkfifo "$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "fifo"
}

@test "a created container's state.json and config.json replaced by fifos" {
	husk_nowait create -b "$BUNDLE" "$ID"
	local pid
	pid=$(husk state "$ID" | jq -r .pid)
	rm "$HUSK_ROOT/$ID/state.json" "$HUSK_ROOT/$ID/config.json"
	mkfifo "$HUSK_ROOT/$ID/state.json" "$HUSK_ROOT/$ID/config.json"
	delete_recovers "$ID" "$pid" "fifo"
}

@test "truncated state.json: delete --force kills the init and removes its cgroups" {
	local pid
	pid=$(start_running "$ID")
	truncate -s 25 "$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "state.json"
}

@test "empty state.json" {
	local pid
	pid=$(start_running "$ID")
	: >"$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "empty"
}

@test "state.json that is not JSON" {
	local pid
	pid=$(start_running "$ID")
	printf 'not json at all {{{' >"$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "state.json"
}

@test "state.json larger than the cap is refused, not read" {
	local pid
	pid=$(start_running "$ID")
	truncate -s 64M "$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "bytes"
}

@test "state.json a symlink to a host file: the host file is neither read nor touched" {
	local pid
	pid=$(start_running "$ID")
	# a host file that parses as a state naming another process
	sleep 1000 3>&- &
	local other=$!
	jq -n --argjson p "$other" '{ociVersion: "1.2.0", id: "x", pid: $p, bundle: "/", cgroupPath: "/"}' \
		>"$TEST_TMP/host-file"
	cp "$TEST_TMP/host-file" "$TEST_TMP/host-file.orig"
	ln -sf "$TEST_TMP/host-file" "$HUSK_ROOT/$ID/state.json"
	delete_recovers "$ID" "$pid" "symbolic link"
	cmp "$TEST_TMP/host-file" "$TEST_TMP/host-file.orig"
	kill -0 "$other"
	kill "$other"
}

@test "both records damaged: delete --force clears the id but says it could not prove what was the container's" {
	local pid
	pid=$(start_running "$ID")
	echo garbage >"$HUSK_ROOT/$ID/state.json"
	echo garbage >"$HUSK_ROOT/$ID/create.json"
	run husk delete --force "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"neither state.json nor create.json"* ]]
	[ ! -e "$HUSK_ROOT/$ID" ]
	# what husk could not prove its own, the test removes
	kill -9 "$pid"
	local d
	for d in $(cgroup_dirs "$ID"); do
		local i
		for i in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	assert_all_gone "$ID" "$pid"
}

# ---- a start or delete cut short ----

@test "a start killed after it released the init: state says running, not created" {
	husk_nowait create -b "$BUNDLE" "$ID"
	[ "$(container_status "$ID")" = created ]
	local pid
	pid=$(husk state "$ID" | jq -r .pid)
	# what start does before it would remove exec.fifo: open its read end
	# (the init's open returns, it execs, the write end closes)
	cat "$HUSK_ROOT/$ID/exec.fifo" >/dev/null
	[ -p "$HUSK_ROOT/$ID/exec.fifo" ]
	wait_for_status "$ID" running
	[ "$(husk list | awk -v id="$ID" '$1 == id {print $3}')" = running ]
	run husk start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"running"* ]]
	run husk delete "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--force"* ]]
	husk delete --force "$ID"
	assert_all_gone "$ID" "$pid"
}

@test "a delete cut short after state.json went: delete --force clears the id" {
	local pid
	pid=$(start_running "$ID")
	# the order delete removes files in: all but the records, then
	# state.json, then create.json
	rm "$HUSK_ROOT/$ID/config.json" "$HUSK_ROOT/$ID/state.json"
	run husk list
	[[ "$output" == *"$ID"* ]]
	run husk create -b "$BUNDLE" "$ID" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	husk delete --force "$ID"
	assert_all_gone "$ID" "$pid"
	husk_nowait create -b "$BUNDLE" "$ID"
	husk delete --force "$ID"
	assert_all_gone "$ID"
}

@test "a create killed before its record: an empty state directory does not block the id" {
	mkdir -p "$HUSK_ROOT/$ID"
	[ "$(husk state "$ID" | jq -r .status)" = stopped ]
	husk delete "$ID"
	assert_all_gone "$ID"
}

# ---- SIGKILL at random points ----

ROUNDS=${HUSK_FAULT_ROUNDS:-15}

# a delay from 0 to 39 ms: create, start, run and delete take a few to a few
# tens of ms here, so the kills land in every phase
random_delay() {
	printf '0.%03d' $((RANDOM % 40))
}

# in_background VAR husk ARGS...: husk in the background, stdio on files and
# bats' fd 3 closed (a container keeping it would hold bats); its pid in VAR.
in_background() {
	local -n pidvar=$1
	shift
	"$HUSK_BIN" --root "$HUSK_ROOT" "$@" </dev/null >>"$TEST_TMP/bg.out" 2>&1 3>&- &
	pidvar=$!
}

# killed_then_cleared ID HUSKPID [PIDS...]: SIGKILL husk after a random
# delay; then delete --force succeeds and removes everything. A process
# that was already gone (it finished first) is fine too.
killed_then_cleared() {
	local id=$1 huskpid=$2
	shift 2
	sleep "$(random_delay)"
	kill -9 "$huskpid" 2>/dev/null || true
	wait "$huskpid" 2>/dev/null || true
	cleared "$id" "$@"
}

# cleared ID [PIDS...]: delete --force returns 0 and nothing is left; the
# processes a killed husk forked (named after the id on their command line
# until they exec) are gone once it returns.
cleared() {
	local id=$1
	shift
	run timeout 30 "$HUSK_BIN" --root "$HUSK_ROOT" delete --force "$id"
	echo "delete --force: $status $output"
	[ "$status" -eq 0 ] || return 1
	assert_all_gone "$id" "$@" || return 1
	local i
	for i in $(seq 50); do
		pgrep -f -- "--root $HUSK_ROOT .*$id" >/dev/null || return 0
		sleep 0.1
	done
	echo "husk processes of $id left: $(pgrep -af -- "$id")" >&2
	return 1
}

@test "SIGKILL of create at random points: delete --force removes everything" {
	local i pid
	for i in $(seq "$ROUNDS"); do
		in_background pid create -b "$BUNDLE" "$ID-$i"
		killed_then_cleared "$ID-$i" "$pid"
	done
}

@test "SIGKILL of run (detached and foreground) at random points" {
	local i pid
	for i in $(seq "$ROUNDS"); do
		if [ $((i % 2)) = 0 ]; then
			in_background pid run -d -b "$BUNDLE" "$ID-$i"
		else
			in_background pid run -b "$BUNDLE" "$ID-$i"
		fi
		killed_then_cleared "$ID-$i" "$pid"
	done
}

@test "SIGKILL of start at random points: the state says what runs, delete --force removes everything" {
	local i pid init st
	for i in $(seq "$ROUNDS"); do
		husk_nowait create -b "$BUNDLE" "$ID-$i"
		init=$(husk state "$ID-$i" | jq -r .pid)
		in_background pid start "$ID-$i"
		sleep "$(random_delay)"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# once the shell of the container runs, husk must not call it created
		if pgrep -f -- "$MARKER" >/dev/null; then
			st=$(container_status "$ID-$i")
			echo "round $i: the container runs, state says $st"
			[ "$st" = running ]
		fi
		cleared "$ID-$i" "$init"
	done
}

@test "SIGKILL of exec at random points: delete --force removes the exec'd processes too" {
	local i pid init
	init=$(start_running "$ID")
	for i in $(seq "$ROUNDS"); do
		in_background pid exec "$ID" /bin/sh -c "sleep 100; echo $MARKER-exec"
		sleep "$(random_delay)"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ "$(container_status "$ID")" = running ]
	cleared "$ID" "$init"
	run pgrep -f -- "$MARKER-exec"
	[ "$status" -ne 0 ]
}

@test "SIGKILL of delete at random points: delete --force again removes everything" {
	local i pid init
	for i in $(seq "$ROUNDS"); do
		init=$(start_running "$ID-$i")
		in_background pid delete --force "$ID-$i"
		killed_then_cleared "$ID-$i" "$pid" "$init"
	done
}

@test "the init killed at random points of create: create fails or succeeds, delete --force removes everything" {
	local i pid child
	for i in $(seq "$ROUNDS"); do
		in_background pid create -b "$BUNDLE" "$ID-$i"
		sleep "$(random_delay)"
		for child in $(pgrep -P "$pid"); do
			kill -9 "$child" 2>/dev/null || true
		done
		wait "$pid" 2>/dev/null || true
		cleared "$ID-$i"
	done
}

@test "the init killed when created, running, paused: delete removes everything" {
	local pid
	husk_nowait create -b "$BUNDLE" "$ID-c"
	pid=$(husk state "$ID-c" | jq -r .pid)
	kill -9 "$pid"
	wait_for_status "$ID-c" stopped
	husk delete "$ID-c"
	assert_all_gone "$ID-c" "$pid"

	pid=$(start_running "$ID-r")
	kill -9 "$pid"
	wait_for_status "$ID-r" stopped
	husk delete "$ID-r"
	assert_all_gone "$ID-r" "$pid"

	pid=$(start_running "$ID-p")
	husk pause "$ID-p"
	kill -9 "$pid"
	run husk delete --force "$ID-p"
	[ "$status" -eq 0 ]
	assert_all_gone "$ID-p" "$pid"
}

# ---- a full --root and no fds to spare ----

# verb_under ID LIMIT VERB ARGS...: one husk verb with stdio on files and,
# when LIMIT is a number, at most LIMIT open fds; $status and $output (its
# stderr) as `run` leaves them.
verb_under() {
	local limit=$1
	shift
	status=0
	(
		exec </dev/null >>"$TEST_TMP/ctr.out" 2>"$TEST_TMP/verb.err" 3>&-
		[ "$limit" = - ] || ulimit -n "$limit"
		exec "$HUSK_BIN" --root "$HUSK_ROOT" "$@"
	) || status=$?
	output=$(cat "$TEST_TMP/verb.err")
	echo "$* (fds $limit): status $status: $output"
}

# fails_clearly WORDS: the verb just run succeeded, or failed saying WORDS
fails_clearly() {
	[ "$status" -eq 0 ] || [[ "$output" == *"$1"* ]]
}

@test "a full --root file system: create and run fail saying so and leave nothing; start, exec, state, list, delete work" {
	mkdir "$TEST_TMP/small"
	mount -t tmpfs -o size=128k husk-fault-test "$TEST_TMP/small"
	HUSK_ROOT=$TEST_TMP/small/state
	mkdir "$HUSK_ROOT"
	# two containers while there is room, then fill it
	husk_nowait create -b "$BUNDLE" "$ID-c"
	local pid
	pid=$(start_running "$ID-r")
	dd if=/dev/zero of="$TEST_TMP/small/fill" bs=4k 2>/dev/null || true
	[ "$(df --output=avail "$TEST_TMP/small" | tail -1)" -eq 0 ]

	verb_under - create -b "$BUNDLE" "$ID-new"
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left on device"* ]]
	# (the marker is in $ID-r's command line)
	MARKER='' assert_all_gone "$ID-new"
	verb_under - run -d -b "$BUNDLE" "$ID-new"
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left on device"* ]]
	# (the marker is in $ID-r's command line)
	MARKER='' assert_all_gone "$ID-new"

	verb_under - start "$ID-c"
	fails_clearly "No space left on device"
	verb_under - exec "$ID-r" /bin/true
	fails_clearly "No space left on device"
	[ "$(husk state "$ID-r" | jq -r .status)" = running ]
	husk list | grep -q -- "$ID-r"
	verb_under - delete --force "$ID-c"
	[ "$status" -eq 0 ]
	MARKER='' assert_all_gone "$ID-c"
	verb_under - delete --force "$ID-r"
	[ "$status" -eq 0 ]
	assert_all_gone "$ID-r" "$pid"
}

@test "ulimit -n exhaustion for each verb: a clear error, and delete --force leaves nothing" {
	local n id
	for n in 3 4 5 6 7 8 10 12 16; do
		id=$ID-$n
		verb_under "$n" create -b "$BUNDLE" "$id"
		fails_clearly "Too many open files"
		cleared "$id"
		verb_under "$n" run -d -b "$BUNDLE" "$id"
		fails_clearly "Too many open files"
		cleared "$id"

		husk_nowait create -b "$BUNDLE" "$id"
		verb_under "$n" start "$id"
		fails_clearly "Too many open files"
		verb_under "$n" state "$id"
		fails_clearly "Too many open files"
		verb_under "$n" list
		fails_clearly "Too many open files"
		[ "$status" -ne 0 ] || [[ "$output" != *"damaged"* ]]
		if [ "$(container_status "$id")" = running ]; then
			verb_under "$n" exec "$id" /bin/true
			fails_clearly "Too many open files"
		fi
		verb_under "$n" delete --force "$id"
		fails_clearly "Too many open files"
		cleared "$id"
	done
}

@test "a create killed before its init existed: delete --force does not kill processes in the cgroup it only planned" {
	# another container's cgroup, with its processes
	local other
	other=$(start_running "$ID-other")
	# what a create of $ID killed before its clone leaves: a record
	# planning the other's cgroup (a cgroupsPath naming it)
	mkdir -p "$HUSK_ROOT/$ID"
	jq -n --arg id "$ID" --arg cg "/$ID-other" '{id: $id, bundle: "/", plannedCgroupPath: $cg}' \
		>"$HUSK_ROOT/$ID/create.json"
	run husk delete --force "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/$ID-other"*"left alone"* ]]
	[ "$(container_status "$ID-other")" = running ]
	kill -0 "$other"
	[ -n "$(cgroup_dirs "$ID-other")" ]
	# an empty planned cgroup (the create died, so did its init) goes
	husk delete --force "$ID-other"
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		mkdir /sys/fs/cgroup/"$ID-other"
	else
		mkdir /sys/fs/cgroup/pids/"$ID-other"
	fi
	husk delete --force "$ID"
	assert_all_gone "$ID"
	assert_all_gone "$ID-other" "$other"
}

@test "the init killed at random points of start and exec: delete --force removes everything" {
	local i pid init
	for i in $(seq "$ROUNDS"); do
		husk_nowait create -b "$BUNDLE" "$ID-s$i"
		init=$(husk state "$ID-s$i" | jq -r .pid)
		in_background pid start "$ID-s$i"
		sleep "$(random_delay)"
		kill -9 "$init"
		wait "$pid" 2>/dev/null || true
		cleared "$ID-s$i" "$init"

		init=$(start_running "$ID-e$i")
		in_background pid exec "$ID-e$i" /bin/sh -c "sleep 100; echo $MARKER-exec"
		sleep "$(random_delay)"
		kill -9 "$init"
		wait "$pid" 2>/dev/null || true
		cleared "$ID-e$i" "$init"
	done
	run pgrep -f -- "$MARKER-exec"
	[ "$status" -ne 0 ]
}
