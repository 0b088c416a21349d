#!/usr/bin/env bats
# Many husk processes at once: distinct ids all work; one id has one winner.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 100
}

teardown() {
	teardown_common
}

@test "20 parallel create/start/delete of distinct ids all succeed" {
	local i pids=()
	for i in $(seq 20); do
		(
			id=$(ctr_id par$i)
			husk create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TEST_TMP/err.$i" &&
				husk start "$id" 2>>"$TEST_TMP/err.$i" &&
				[ "$(husk state "$id" | jq -r .status)" = running ] &&
				husk delete --force "$id" 2>>"$TEST_TMP/err.$i" &&
				echo ok >"$TEST_TMP/ok.$i"
		) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	cat "$TEST_TMP"/err.* >&2
	[ "$(ls "$TEST_TMP"/ok.* | wc -l)" -eq 20 ]
	[ -z "$(husk list -q)" ]
	for i in $(seq 20); do assert_nothing_left "$(ctr_id par$i)"; done
}

@test "10 parallel creates of one id: exactly one wins, the others say already exists" {
	local id i pids=()
	id=$(ctr_id race)
	for i in $(seq 10); do
		husk create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TEST_TMP/err.$i" &
		pids+=($!)
	done
	local won=0 rc
	for i in $(seq 10); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		if [ "$rc" -eq 0 ]; then
			won=$((won + 1))
		else
			grep -q "already exists" "$TEST_TMP/err.$i"
		fi
	done
	[ "$won" -eq 1 ]
	[ "$(husk list -q)" = "$id" ]
	[ "$(container_status "$id")" = created ]
	# one init, the one in the state
	local pid
	pid=$(husk state "$id" | jq .pid)
	kill -0 "$pid"
	if [ -d /sys/fs/cgroup/pids ]; then
		[ "$(xargs <"/sys/fs/cgroup/pids/$id/cgroup.procs")" = "$pid" ]
	fi
	husk start "$id"
	husk delete --force "$id"
	assert_nothing_left "$id"
}

@test "state and start racing on one container: start wins once, every state read is whole" {
	local id i pids=()
	id=$(ctr_id statrace)
	set_args "$BUNDLE" /bin/sh -c "trap 'exit 0' TERM; while :; do sleep 0.1; done"
	husk_nowait create -b "$BUNDLE" "$id"
	# readers and writers of state.json at the same time: every reader
	# sees a whole document, start wins once
	for i in $(seq 10); do
		husk state "$id" >"$TEST_TMP/state.$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 3); do
		husk start "$id" >"$TEST_TMP/start.$i" 2>&1 &
		pids+=($!)
	done
	local rc started=0
	for i in "${!pids[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$i" -lt 10 ] && [ "$rc" -ne 0 ] && { cat "$TEST_TMP/state.$((i + 1))"; false; }
		[ "$i" -ge 10 ] && [ "$rc" -eq 0 ] && started=$((started + 1))
	done
	[ "$started" -eq 1 ]
	for i in $(seq 10); do
		jq -e '.id and .status and .pid' "$TEST_TMP/state.$i" >/dev/null
	done
	wait_for_status "$id" running
	# no temporary file of an atomic write is left behind
	[ "$(ls -A "$HUSK_ROOT/$id" | sort | xargs)" = "config.json create.json state.json" ]
	husk kill "$id" KILL
	wait_for_status "$id" stopped
	husk delete "$id"
	assert_nothing_left "$id"
}
