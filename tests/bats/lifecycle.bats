#!/usr/bin/env bats
# create/start/state/kill/delete/list/run and every error the spec requires.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	update_config "$BUNDLE" '.root.readonly = false'
}

teardown() {
	teardown_common
}

@test "create parks the init: state created with a live pid and exec.fifo" {
	local id
	id=$(ctr_id life)
	set_args "$BUNDLE" /bin/sh -c "echo started >/tmp/marker; sleep 100"
	run husk_nowait create -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -p "$HUSK_ROOT/$id/exec.fifo" ]
	run husk state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = created ]
	[ "$(jq -r .id <<<"$output")" = "$id" ]
	[ "$(jq -r .bundle <<<"$output")" = "$(realpath "$BUNDLE")" ]
	local pid
	pid=$(jq -r .pid <<<"$output")
	[ "$pid" -gt 1 ]
	kill -0 "$pid"
	# parked: the process has not run yet
	[ ! -e "$BUNDLE/rootfs/tmp/marker" ]
}

@test "start runs the process; kill with the default signal stops it; delete removes everything" {
	local id
	id=$(ctr_id life)
	set_args "$BUNDLE" /bin/sh -c "echo started >/tmp/marker; trap 'exit 0' TERM; while :; do sleep 0.1; done"
	husk_nowait create -b "$BUNDLE" "$id"
	[ -n "$(cgroup_dirs "$id")" ]
	run husk start "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$id/exec.fifo" ]
	[ "$(container_status "$id")" = running ]
	for _ in $(seq 50); do [ -e "$BUNDLE/rootfs/tmp/marker" ] && break; sleep 0.1; done
	[ "$(cat "$BUNDLE/rootfs/tmp/marker")" = started ]
	run husk kill "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	run husk delete "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$id" ]
	[ -z "$(cgroup_dirs "$id")" ]
	run husk state "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "kill accepts TERM, SIGTERM, numbers and KILL" {
	local sig id
	# pid 1 of a pid namespace ignores signals it has no handler for: wait
	# until the trap is in place before sending TERM
	set_args "$BUNDLE" /bin/sh -c "trap 'exit 0' TERM; touch /dev/shm/ready; while :; do sleep 0.1; done"
	for sig in TERM SIGTERM 15 9 KILL SIGKILL; do
		id=$(ctr_id k$sig)
		husk_nowait create -b "$BUNDLE" "$id"
		husk start "$id"
		for i in $(seq 100); do
			husk exec "$id" test -e /dev/shm/ready && break
			sleep 0.05
		done
		run husk kill "$id" "$sig"
		[ "$status" -eq 0 ]
		wait_for_status "$id" stopped
		husk delete "$id"
	done
	id=$(ctr_id kbad)
	husk_nowait create -b "$BUNDLE" "$id"
	run husk kill "$id" NOSUCHSIG
	[ "$status" -ne 0 ]
	[[ "$output" == *NOSUCHSIG* ]]
	[ "$(container_status "$id")" = created ]
}

@test "kill refuses a real-time signal beyond RTMIN..RTMAX, however large the offset" {
	local sig
	# the sum once overflowed (UBSan in the sanitizer build; found by fuzz-parsers)
	for sig in RTMIN+9223372036854775807 SIGRTMAX-99999999999999999999 RTMIN+31 RTMAX+1 RTMIN-1; do
		run husk kill nosuch "$sig"
		[ "$status" -ne 0 ]
		[[ "$output" == *"\"$sig\" is not a signal"* ]]
	done
	run husk kill nosuch RTMIN+30
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "kill of a created container stops it" {
	local id
	id=$(ctr_id kcreated)
	husk_nowait create -b "$BUNDLE" "$id"
	run husk kill "$id" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
}

@test "start of a running or stopped container fails, and start twice fails" {
	local id
	id=$(ctr_id twice)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$id"
	husk start "$id"
	run husk start "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot start"*"running"* ]]
	husk kill "$id" KILL
	wait_for_status "$id" stopped
	run husk start "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot start"*"stopped"* ]]
}

@test "delete of a running container needs --force; --force kills and removes it" {
	local id pid
	id=$(ctr_id busy)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$id"
	husk start "$id"
	pid=$(husk state "$id" | jq .pid)
	run husk delete "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"running"*"--force"* ]]
	[ "$(container_status "$id")" = running ]
	run husk delete --force "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$id" ]
	[ -z "$(cgroup_dirs "$id")" ]
	process_gone "$pid"
}

@test "delete of a created container kills its init and removes it" {
	local id pid
	id=$(ctr_id delcreated)
	husk_nowait create -b "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq .pid)
	run husk delete "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$HUSK_ROOT/$id" ]
	[ -z "$(cgroup_dirs "$id")" ]
	process_gone "$pid"
}

@test "kill of a stopped container says container not running" {
	local id
	id=$(ctr_id stopped)
	set_args "$BUNDLE" /bin/true
	husk_nowait create -b "$BUNDLE" "$id"
	husk start "$id"
	wait_for_status "$id" stopped
	run husk kill "$id" KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
}

@test "every verb on a missing id says does not exist" {
	local verb
	for verb in state start delete kill; do
		run husk "$verb" nosuchcontainer
		[ "$status" -ne 0 ]
		[[ "$output" == *"does not exist"* ]]
	done
	# as runc: --force makes deleting a missing container succeed
	run husk delete --force nosuchcontainer
	[ "$status" -eq 0 ]
}

@test "create with an existing id fails with already exists and leaves the first alone" {
	local id pid
	id=$(ctr_id dup)
	husk_nowait create -b "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq .pid)
	run husk_nowait create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "$(container_status "$id")" = created ]
	[ "$(husk state "$id" | jq .pid)" = "$pid" ]
	kill -0 "$pid"
}

@test "invalid ids are rejected without touching the state root" {
	local id
	for id in "../x" ".x" "a/b" "" "a b" "x/../.." "."; do
		run husk_nowait create -b "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"container id"* ]]
		run husk state "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"container id"* ]]
	done
	[ ! -e "$TEST_TMP/x" ]
	[ -z "$(ls -A "$HUSK_ROOT" 2>/dev/null)" ]
}

@test "list shows containers as a table, as json and as ids" {
	local a b
	a=$(ctr_id lista)
	b=$(ctr_id listb)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$a"
	husk_nowait create -b "$BUNDLE" "$b"
	husk start "$b"
	run husk list -q
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$(printf '%s\n' "$a" "$b" | sort)" ]
	run husk list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
	[[ "$output" == *"$a"*created* ]]
	[[ "$output" == *"$b"*running* ]]
	run husk list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r --arg id "$a" '.[] | select(.id == $id) | .status' <<<"$output")" = created ]
	[ "$(jq -r --arg id "$b" '.[] | select(.id == $id) | .status' <<<"$output")" = running ]
	[ "$(jq length <<<"$output")" -eq 2 ]
}

@test "list of an empty or missing root is empty" {
	run husk list -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run husk list --format json
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 0 ]
}

@test "run passes the exit code through and removes the container" {
	local id
	id=$(ctr_id exit3)
	set_args "$BUNDLE" /bin/sh -c "echo out; exit 3"
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -eq 3 ]
	[ "$output" = out ]
	[ ! -e "$HUSK_ROOT/$id" ]
	[ -z "$(cgroup_dirs "$id")" ]
}

@test "run of a process killed by a signal exits 128+N" {
	local sig num id
	set_args "$BUNDLE" sleep 100
	for sig in KILL:9 USR1:10; do
		num=${sig#*:}
		sig=${sig%:*}
		# a pid namespace's init ignores signals it has no handler for,
		# except SIGKILL: USR1 needs a process that is not an init
		[ "$sig" = KILL ] ||
			update_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "pid"))'
		id=$(ctr_id sig$num)
		"$HUSK_BIN" --root "$HUSK_ROOT" run -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 &
		local runpid=$! rc=0
		wait_for_status "$id" running
		husk kill "$id" "$sig"
		wait "$runpid" || rc=$?
		[ "$rc" -eq $((128 + num)) ]
		[ ! -e "$HUSK_ROOT/$id" ]
	done
}

@test "run forwards signals to the container" {
	local id
	id=$(ctr_id fwd)
	set_args "$BUNDLE" /bin/sh -c "trap 'echo got-term; exit 7' TERM; echo ready >/tmp/ready; while :; do sleep 0.1; done"
	# not the husk() wrapper: $! must be husk itself, not a subshell
	"$HUSK_BIN" --root "$HUSK_ROOT" run -b "$BUNDLE" "$id" </dev/null >"$TEST_TMP/out" &
	local runpid=$!
	for _ in $(seq 100); do [ -e "$BUNDLE/rootfs/tmp/ready" ] && break; sleep 0.1; done
	kill -TERM "$runpid"
	local rc=0
	wait "$runpid" || rc=$?
	[ "$rc" -eq 7 ]
	[ "$(cat "$TEST_TMP/out")" = got-term ]
}

@test "run --keep keeps the stopped container" {
	local id
	id=$(ctr_id keep)
	set_args "$BUNDLE" /bin/true
	run husk run --keep -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(container_status "$id")" = stopped ]
	husk delete "$id"
	[ ! -e "$HUSK_ROOT/$id" ]
}

@test "run --detach returns with the container running" {
	local id
	id=$(ctr_id detach)
	set_args "$BUNDLE" sleep 100
	run husk_nowait run --detach -b "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(container_status "$id")" = running ]
	husk kill "$id" KILL
	wait_for_status "$id" stopped
	husk delete "$id"
	[ -z "$(cgroup_dirs "$id")" ]
}

@test "--pid-file holds the init's pid" {
	local id
	id=$(ctr_id pidfile)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$id"
	[ "$(cat "$TEST_TMP/pid")" = "$(husk state "$id" | jq .pid)" ]
	# a relative path is taken from the caller's directory
	(cd "$TEST_TMP" && husk_nowait create -b "$BUNDLE" --pid-file rel.pid "$(ctr_id pidrel)")
	[ "$(cat "$TEST_TMP/rel.pid")" = "$(husk state "$(ctr_id pidrel)" | jq .pid)" ]
	run husk_nowait run --detach -b "$BUNDLE" --pid-file "$TEST_TMP/run.pid" "$(ctr_id pidrun)"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/run.pid")" = "$(husk state "$(ctr_id pidrun)" | jq .pid)" ]
	# the pid is the container's init, seen from the host
	[ "$(readlink "/proc/$(cat "$TEST_TMP/run.pid")/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
}

@test "--log-format json: the last line is the error of a failing create" {
	update_config "$BUNDLE" '.root.path = "nosuchrootfs"'
	run "$HUSK_BIN" --root "$HUSK_ROOT" --log "$TEST_TMP/log.json" --log-format json \
		create -b "$BUNDLE" "$(ctr_id logjson)"
	[ "$status" -ne 0 ]
	local last
	last=$(tail -n 1 "$TEST_TMP/log.json")
	[ "$(jq -r .level <<<"$last")" = error ]
	[[ "$(jq -r .msg <<<"$last")" == *nosuchrootfs* ]]
	[[ "$(jq -r .time <<<"$last")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
	# every line is JSON
	jq -e . "$TEST_TMP/log.json" >/dev/null
}

@test "state of a running container carries the spec fields and annotations" {
	local id
	id=$(ctr_id ann)
	update_config "$BUNDLE" '.annotations = {"org.example.key": "value"}'
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$id"
	husk start "$id"
	run husk state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .ociVersion <<<"$output")" != null ]
	[ "$(jq -r '.annotations["org.example.key"]' <<<"$output")" = value ]
	[ "$(jq -r .status <<<"$output")" = running ]
}

@test "kill --all signals every process of the container" {
	local id
	id=$(ctr_id killall)
	# without a pid namespace the init's death does not take its children
	# along: only --all reaches the background sleep
	update_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "pid"))'
	set_args "$BUNDLE" /bin/sh -c "sleep 101 & echo \$! >/tmp/child; wait"
	husk_nowait create -b "$BUNDLE" "$id"
	husk start "$id"
	for _ in $(seq 50); do [ -s "$BUNDLE/rootfs/tmp/child" ] && break; sleep 0.1; done
	local child
	child=$(cat "$BUNDLE/rootfs/tmp/child")
	kill -0 "$child"
	run husk kill --all "$id" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	for _ in $(seq 50); do process_gone "$child" && break; sleep 0.1; done
	process_gone "$child"
	husk delete "$id"
	[ -z "$(cgroup_dirs "$id")" ]
}

@test "delete --force works on a container that run waits on in the foreground" {
	set_args "$BUNDLE" sleep 100
	id=$(ctr_id fg)
	husk run -b "$BUNDLE" "$id" >/dev/null 2>&1 &
	runner=$!
	wait_for_status "$id" running
	run timeout 10 "$HUSK_BIN" --root "$HUSK_ROOT" delete --force "$id"
	[ "$status" -eq 0 ]
	# run returns (the container was killed) and leaves nothing behind
	wait "$runner" || true
	[ ! -e "$HUSK_ROOT/$id" ]
}

@test "without --root the state lives in /run/husk" {
	local id
	id=$(ctr_id defroot)
	set_args "$BUNDLE" sleep 100
	# not the husk() wrapper: no --root
	"$HUSK_BIN" create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TEST_TMP/err" ||
		{ cat "$TEST_TMP/err"; false; }
	local rc=0
	[ -p "/run/husk/$id/exec.fifo" ] || rc=1
	[ "$("$HUSK_BIN" state "$id" | jq -r .status)" = created ] || rc=1
	"$HUSK_BIN" list -q | grep -qx -- "$id" || rc=1
	"$HUSK_BIN" delete --force "$id"
	[ "$rc" -eq 0 ]
	[ ! -e "/run/husk/$id" ]
}

@test "run of a missing executable fails naming it and leaves nothing" {
	local id
	id=$(ctr_id noexe)
	set_args "$BUNDLE" nosuchcmd
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *'exec: \"nosuchcmd\": executable file not found in $PATH'* ]]
	assert_nothing_left "$id"
}

@test "--preserve-fds on create reaches the process at start" {
	local id
	id=$(ctr_id fdcreate)
	echo kept >"$TEST_TMP/fd3"
	set_args "$BUNDLE" /bin/sh -c 'cat <&3 >/tmp/fd3-seen'
	husk_nowait create --preserve-fds 1 -b "$BUNDLE" "$id" 3<"$TEST_TMP/fd3"
	husk start "$id"
	wait_for_status "$id" stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/fd3-seen")" = kept ]
}

@test "list --format json carries each container's pid, bundle, creation time and owner" {
	local id pid
	id=$(ctr_id listjson)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq .pid)
	run husk list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].id' <<<"$output")" = "$id" ]
	[ "$(jq -r '.[0].pid' <<<"$output")" = "$pid" ]
	[ "$(jq -r '.[0].bundle' <<<"$output")" = "$(realpath "$BUNDLE")" ]
	[[ "$(jq -r '.[0].created' <<<"$output")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$ ]]
	[ "$(jq -r '.[0].owner' <<<"$output")" = "$(id -un)" ]
	[ "$(husk state "$id" | jq -r .owner)" = "$(id -un)" ]
	# the table shows the same pid, and the owner last
	run husk list
	[[ "${lines[1]}" =~ ^$id\ +$pid\ +created\ + ]]
	[[ "${lines[1]}" =~ \ $(id -un)$ ]]
}

@test "state: created is the current UTC time; an owner /etc/passwd does not name shows as its uid" {
	local id created uid=54321
	id=$(ctr_id created)
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$id"
	created=$(husk state "$id" | jq -r .created)
	[ $(($(date -u +%s) - $(date -u -d "$created" +%s))) -le 60 ]
	# the owner is whoever owns the state directory
	run getent passwd "$uid"
	[ "$status" -ne 0 ]
	chown "$uid" "$HUSK_ROOT/$id"
	[ "$(husk state "$id" | jq -r .owner)" = "$uid" ]
	run husk list
	[[ "${lines[1]}" =~ \ $uid$ ]]
}

@test "list names each container's own owner when owners alternate" {
	local id uid=54321
	set_args "$BUNDLE" sleep 100
	for id in a b c d; do husk_nowait create -b "$BUNDLE" "$(ctr_id "own$id")"; done
	chown "$uid" "$HUSK_ROOT/$(ctr_id ownb)" "$HUSK_ROOT/$(ctr_id ownd)"
	run husk list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'map(.owner) | join(" ")' <<<"$output")" = "$(id -un) $uid $(id -un) $uid" ]
}
