#!/usr/bin/env bats
# The six hook kinds: order, state on stdin, args/env, timeout, failures.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	ID=$(ctr_id hooks)
	# hooks run with a clean environment; the script finds its files by argv
	cat >"$TEST_TMP/hook.sh" <<-'EOS'
	#!/bin/sh
	# hook.sh LOG NAME: append NAME and the state's status to LOG and keep
	# the state JSON as LOG.NAME.json
	cat >"$1.$2.json"
	echo "$2 $(jq -r .status "$1.$2.json") $HOOK_ENV" >>"$1"
	EOS
	chmod 755 "$TEST_TMP/hook.sh"
}

teardown() {
	teardown_common
}

# hook NAME: a hook entry that logs NAME to $TEST_TMP/log
hook() {
	echo "{\"path\": \"$TEST_TMP/hook.sh\", \"args\": [\"hook.sh\", \"$TEST_TMP/log\", \"$1\"], \"env\": [\"HOOK_ENV=env-$1\", \"PATH=/usr/bin:/bin\"]}"
}

@test "all six hooks run in order with the state on stdin, their args and env" {
	local kind
	for kind in prestart createRuntime createContainer poststart poststop; do
		update_config "$BUNDLE" ".hooks.$kind = [$(hook "$kind")]"
	done
	# startContainer runs after pivot_root: its path and files are the container's
	update_config "$BUNDLE" '.root.readonly = false | .hooks.startContainer = [{"path": "/bin/sh",
		"args": ["sh", "-c", "echo \"startContainer $(grep -o created) $HOOK_ENV\" >/tmp/log"],
		"env": ["HOOK_ENV=env-startContainer"]}]'
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$ID"
	local pid
	pid=$(husk state "$ID" | jq .pid)
	run cat "$TEST_TMP/log"
	[ "${lines[0]}" = "prestart creating env-prestart" ]
	[ "${lines[1]}" = "createRuntime creating env-createRuntime" ]
	[ "${lines[2]}" = "createContainer creating env-createContainer" ]
	[ "${#lines[@]}" -eq 3 ]
	[ ! -e "$BUNDLE/rootfs/tmp/log" ]
	husk start "$ID"
	husk kill "$ID" KILL
	wait_for_status "$ID" stopped
	husk delete "$ID"
	run cat "$TEST_TMP/log"
	[ "${lines[0]}" = "prestart creating env-prestart" ]
	[ "${lines[1]}" = "createRuntime creating env-createRuntime" ]
	[ "${lines[3]}" = "poststart running env-poststart" ]
	[ "${lines[4]}" = "poststop stopped env-poststop" ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(cat "$BUNDLE/rootfs/tmp/log")" = "startContainer created env-startContainer" ]
	local f
	for f in prestart createRuntime poststart; do
		[ "$(jq -r .id "$TEST_TMP/log.$f.json")" = "$ID" ]
		[ "$(jq -r .pid "$TEST_TMP/log.$f.json")" = "$pid" ]
		[ "$(jq -r .bundle "$TEST_TMP/log.$f.json")" = "$(realpath "$BUNDLE")" ]
	done
	[ "$(jq -r .id "$TEST_TMP/log.poststop.json")" = "$ID" ]
}

@test "createContainer and startContainer hooks run in the container's namespaces" {
	# they run inside the container's mount namespace, before pivot_root:
	# write their marker files in a bind-mounted test temp dir
	mkdir "$TEST_TMP/shared"
	update_config "$BUNDLE" '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/uts > '"$TEST_TMP"'/shared/cc"]}]
		| .hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/uts > /tmp/sc"]}]
		| .root.readonly = false'
	set_args "$BUNDLE" /bin/sh -c 'readlink /proc/self/ns/uts; cat /tmp/sc'
	run husk run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "$(cat "$TEST_TMP/shared/cc")" = "${lines[0]}" ]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/uts)" ]
}

@test "a hook's timeout is enforced" {
	local marker="hooksleep-${TEST_TMP##*.}"
	update_config "$BUNDLE" '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "while :; do sleep 0.1; done # '"$marker"'"], "timeout": 1}]'
	local start
	start=$(date +%s%N)
	run husk_nowait create -b "$BUNDLE" "$ID"
	local elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -ne 0 ]
	[[ "$output" == *"createRuntime hook 0 (/bin/sh) timed out after 1 s"* ]]
	# about a second: the timeout, not the hook, ended it
	[ "$elapsed_ms" -ge 900 ]
	[ "$elapsed_ms" -lt 4000 ]
	assert_nothing_left "$ID" "$marker"
}

@test "a timed-out hook's children are killed with it" {
	local marker="hookkids-${TEST_TMP##*.}"
	# the hook's child (a shell running sleep, named by the marker) would be
	# reparented and outlive the killed hook, holding husk's stdio open
	update_config "$BUNDLE" '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "sh -c \"sleep 300; : '"$marker"'\" & wait"], "timeout": 1}]'
	run husk_nowait create -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"createRuntime hook 0 (/bin/sh) timed out after 1 s"* ]]
	local left
	left=$(pgrep -f -- "$marker" || true)
	if [ -n "$left" ]; then
		kill -9 $left
		echo "the hook's child $left outlived the timeout" >&2
		return 1
	fi
	assert_nothing_left "$ID" "$marker"
}

@test "a hook that never reads a state larger than a pipe still meets its timeout" {
	local marker="hookstuck-${TEST_TMP##*.}" big
	# the state carries the annotations: 100 KiB, more than a pipe holds (64 KiB)
	big=$(head -c 102400 /dev/zero | tr '\0' s)
	jq --arg big "$big" --arg marker "$marker" \
		'.annotations = {"big": $big}
		| .hooks.createRuntime = [{"path": "/bin/sh",
			"args": ["sh", "-c", "exec sleep 60 # " + $marker], "timeout": 2}]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
	# a bound far above the timeout: the old husk blocked writing the state
	# until the hook exited (60 s)
	run timeout 30 "$HUSK_BIN" --root "$HUSK_ROOT" create -b "$BUNDLE" "$ID" </dev/null
	echo "$status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"createRuntime hook 0 (/bin/sh) timed out after 2 s"* ]]
	assert_nothing_left "$ID" "$marker"
}

@test "a hook that exits without reading a large state is judged by its exit status" {
	local big
	big=$(head -c 102400 /dev/zero | tr '\0' s)
	jq --arg big "$big" --arg mark "$TEST_TMP/ran" \
		'.annotations = {"big": $big}
		| .hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "touch " + $mark], "timeout": 5}]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
	run husk run -b "$BUNDLE" "$ID"
	echo "$status: $output"
	[ "$status" -eq 0 ]
	[ -e "$TEST_TMP/ran" ]
}

@test "a failing prestart, createRuntime or createContainer hook fails create and leaves nothing" {
	local kind marker
	marker="hookmarker-${TEST_TMP##*.}"
	set_args "$BUNDLE" /bin/sh -c "exec sleep 100 # $marker"
	for kind in prestart createRuntime createContainer; do
		cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
		update_config "$BUNDLE" ".hooks.$kind = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit 5\"]}]"
		run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
		[ "$status" -ne 0 ]
		[[ "$output" == *"$kind"*"/bin/sh"*"status 5"* ]]
		assert_nothing_left "$ID" "$marker" "$TEST_TMP/pid"
		cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	done
}

@test "a failing poststop hook is a warning naming it; the remaining poststop hooks run and delete succeeds" {
	update_config "$BUNDLE" ".hooks.poststop = [$(hook first), {\"path\": \"/bin/false\"},
		{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit 4\"]}, $(hook last)]"
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$ID"
	husk start "$ID"
	run husk delete --force "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *warn*"poststop hook 1 (/bin/false) exited with status 1"* ]]
	[[ "$output" == *warn*"poststop hook 2 (/bin/sh) exited with status 4"* ]]
	run cat "$TEST_TMP/log"
	[ "${lines[0]}" = "first stopped env-first" ]
	[ "${lines[1]}" = "last stopped env-last" ]
	[ "${#lines[@]}" -eq 2 ]
	assert_nothing_left "$ID"
}

@test "a failing poststart hook fails start naming it and stops the container (runtime-spec 1.3)" {
	update_config "$BUNDLE" ".hooks.poststart = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit 7\"]},
		$(hook poststart)] | .hooks.poststop = [$(hook poststop)]"
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
	local pid
	pid=$(cat "$TEST_TMP/pid")
	run husk start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"start "*"$ID"*"stopped"*"poststart hook 0 (/bin/sh) exited with status 7"* ]]
	# stopped, not left running: its init is gone
	[ "$(container_status "$ID")" = stopped ]
	process_gone "$pid"
	# the first failure ends the poststart hooks, as runc's
	[ ! -e "$TEST_TMP/log" ]
	husk delete "$ID"
	[ "$(cat "$TEST_TMP/log")" = "poststop stopped env-poststop" ]
	assert_nothing_left "$ID"
}

@test "run fails when a poststart hook fails, removes the container and runs poststop" {
	update_config "$BUNDLE" '.hooks.poststart = [{"path": "/bin/false"}]'
	update_config "$BUNDLE" ".hooks.poststop = [$(hook poststop)]"
	set_args "$BUNDLE" sleep 9137
	run husk_nowait run -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"poststart hook 0 (/bin/false) exited with status 1"* ]]
	[ "$(cat "$TEST_TMP/log")" = "poststop stopped env-poststop" ]
	assert_nothing_left "$ID" "sleep 9137"
}

@test "a failing startContainer hook stops the container before its process runs" {
	update_config "$BUNDLE" '.root.readonly = false | .hooks.startContainer = [{"path": "/bin/false"}]'
	set_args "$BUNDLE" /bin/sh -c 'echo ran >/tmp/ran'
	run -1 husk run -b "$BUNDLE" "$ID"
	[[ "$output" == *"startContainer hook 0 (/bin/false) exited with status 1"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	assert_nothing_left "$ID"
}

@test "start fails when a startContainer hook fails, naming the hook" {
	update_config "$BUNDLE" '.root.readonly = false | .hooks.startContainer = [{"path": "/bin/false"}]'
	set_args "$BUNDLE" /bin/sh -c 'echo ran >/tmp/ran'
	husk_nowait create -b "$BUNDLE" "$ID"
	run -1 husk start "$ID"
	[[ "$output" == *"start "*"$ID"*": startContainer hook 0 (/bin/false) exited with status 1"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	[ "$(container_status "$ID")" = stopped ]
}

@test "prestart, createRuntime, poststart and poststop hooks run in the runtime's namespaces" {
	local kind
	for kind in prestart createRuntime poststart poststop; do
		update_config "$BUNDLE" ".hooks.$kind = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\",
			\"echo $kind \$(readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/pid | xargs) >>$TEST_TMP/ns\"]}]"
	done
	set_args "$BUNDLE" true
	run husk run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	local host
	host=$(readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/pid | xargs)
	run cat "$TEST_TMP/ns"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "prestart $host" ]
	[ "${lines[1]}" = "createRuntime $host" ]
	[ "${lines[2]}" = "poststart $host" ]
	[ "${lines[3]}" = "poststop $host" ]
}

@test "poststop runs when run removes the container and on delete --force of a running one" {
	update_config "$BUNDLE" ".hooks.poststop = [$(hook poststop)]"
	set_args "$BUNDLE" /bin/sh -c 'exit 3'
	run husk run -b "$BUNDLE" "$ID"
	[ "$status" -eq 3 ]
	[ "$(cat "$TEST_TMP/log")" = "poststop stopped env-poststop" ]
	[ "$(jq -r .id "$TEST_TMP/log.poststop.json")" = "$ID" ]
	rm "$TEST_TMP/log"
	set_args "$BUNDLE" sleep 100
	husk_nowait run --detach -b "$BUNDLE" "$ID"
	[ ! -e "$TEST_TMP/log" ]
	husk delete --force "$ID"
	[ "$(cat "$TEST_TMP/log")" = "poststop stopped env-poststop" ]
	assert_nothing_left "$ID"
}

@test "a hook with a relative path or a timeout that is not above zero fails create and leaves nothing" {
	local case
	for case in '{"path": "hook.sh"}|hooks.poststop[0].path: "hook.sh" is not an absolute path' \
		'{"path": "/bin/true", "timeout": 0}|hooks.poststop[0].timeout: 0 is not above zero' \
		'{"path": "/bin/true", "timeout": -5}|hooks.poststop[0].timeout: -5 is not above zero'; do
		update_config "$BUNDLE" ".hooks.poststop = [${case%%|*}]"
		run husk_nowait create -b "$BUNDLE" --pid-file "$TEST_TMP/pid" "$ID"
		[ "$status" -ne 0 ]
		[[ "${output//\\/}" == *"${case#*|}"* ]]
		assert_nothing_left "$ID" "" "$TEST_TMP/pid"
	done
}
