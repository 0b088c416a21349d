#!/usr/bin/env bats
# Hostile and huge config values: each fails with an error that names the
# field at its start and keeps the cause at its end (however long the value
# in between), never a crash (134/139), and leaves nothing behind.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	ID=$(ctr_id inp)
	LONG=$(head -c 5000 /dev/zero | tr '\0' a)
}

teardown() {
	teardown_common
}

# fails_with START END: create fails (not a crash); its error message starts
# with START (after the log prefix) and ends with END; nothing is left.
fails_with() {
	run husk_nowait create -b "$BUNDLE" "$ID"
	echo "status $status: ${output:0:300} ... ${output: -300}"
	[ "$status" -eq 1 ]
	local msg
	msg=$(sed -n 's/.*level=error msg="\(.*\)"$/\1/p' <<<"$output" | tail -n 1)
	msg=${msg//\\\"/\"}
	[[ "$msg" == "$1"* ]]
	[[ "$msg" == *"$2" ]]
	assert_nothing_left "$ID"
}

@test "a 5000-byte process.cwd: named, and the cause kept" {
	update_config "$BUNDLE" ".process.cwd = \"/$LONG\""
	fails_with "process.cwd: chdir /aaa" "File name too long"
}

@test "a 5000-byte process.args[0] path: named, not truncated into another file" {
	update_config "$BUNDLE" ".process.args = [\"/$LONG\"]"
	fails_with "process.args[0]: too long" "(over 4095 bytes)"
}

@test "a 5000-byte mount source: named, not truncated into another path" {
	update_config "$BUNDLE" ".mounts += [{\"destination\": \"/mnt\", \"type\": \"bind\",
		\"source\": \"/$LONG\", \"options\": [\"bind\"]}]"
	fails_with "mounts[7].source: too long" "(over 4095 bytes)"
}

@test "a 5000-byte mount destination: named, and the cause kept" {
	update_config "$BUNDLE" ".mounts += [{\"destination\": \"/$LONG\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
	fails_with "mounts[7]: /aaa" "File name too long"
}

@test "a 5000-byte root.path: named" {
	update_config "$BUNDLE" ".root.path = \"/$LONG\""
	fails_with "root.path: too long" "(over 4095 bytes)"
}

@test "a 5000-byte device path: named, and the cause kept" {
	update_config "$BUNDLE" ".linux.devices = [{\"path\": \"/dev/$LONG\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]"
	fails_with "" "File name too long"
	[[ "$output" == *"/dev/aaa"* ]]
}

@test "a 5000-byte hostname: named, and the cause kept" {
	update_config "$BUNDLE" ".hostname = \"$LONG\""
	fails_with "hostname" "Invalid argument"
}

@test "a 5000-byte maskedPaths entry: named, and the cause kept" {
	update_config "$BUNDLE" ".linux.maskedPaths += [\"/$LONG\"]"
	fails_with "" "File name too long"
	[[ "$output" == *"maskedPaths"* ]]
}

@test "a 5000-byte hook path: named, and the cause kept" {
	update_config "$BUNDLE" ".hooks.createRuntime = [{\"path\": \"/$LONG\"}]"
	fails_with "" "exited with status 127"
	[[ "$output" == *"createRuntime"* ]]
}

@test "a 5000-byte rlimit type, sysctl key and seccomp architecture: named, whole message" {
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	update_config "$BUNDLE" ".process.rlimits = [{\"type\": \"RLIMIT_$LONG\", \"hard\": 1, \"soft\": 1}]"
	fails_with "process.rlimits[0].type: unknown rlimit \"RLIMIT_aaa" 'aaa"'
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	update_config "$BUNDLE" ".linux.sysctl = {\"net.$LONG\": \"1\"}"
	fails_with "linux.sysctl: \"net.aaa" 'is too long'
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	update_config "$BUNDLE" ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"$LONG\"]}"
	fails_with "linux.seccomp.architectures[0]: unknown architecture \"aaa" 'aaa"'
}

@test "more additionalGids than the kernel takes fail naming the field before anything runs" {
	update_config "$BUNDLE" '.process.user.additionalGids = [range(70000)]'
	fails_with "process.user.additionalGids: 70000 entries, at most 65536" "65536"
}

@test "huge env, hook env and annotations work whole" {
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' e)
	jq --arg big "$big" --arg long "$LONG" --arg mark "$TEST_TMP/hook-ran" \
		'.process.env += ["BIG=" + $big]
		| .annotations = {("k" + $long): $big}
		| .hooks.createRuntime = [{"path": "/bin/sh",
			"args": ["sh", "-c", "cat >/dev/null; [ ${#BIG} -eq 100000 ] && touch " + $mark],
			"env": ["BIG=" + $big]}]' "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
	set_args "$BUNDLE" /bin/sh -c 'echo ${#BIG}'
	run husk run -b "$BUNDLE" "$ID"
	echo "$status: ${output: -300}"
	[ "$status" -eq 0 ]
	[ "$output" = 100000 ]
	[ -e "$TEST_TMP/hook-ran" ]
}

@test "exec --user with a long GID is parsed whole, not cut into another id" {
	set_args "$BUNDLE" sleep 100
	husk_nowait run -d -b "$BUNDLE" "$ID"
	local zeros
	zeros=$(head -c 70 /dev/zero | tr '\0' 0)
	run husk exec --user "0:${zeros}5" "$ID" id -g
	echo "$status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = 5 ]
}

@test "ps: a failed fork is reported, ps's own options go through whole" {
	[ -x "$HUSK_BUILDDIR/tests/tools/deny-syscall" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	set_args "$BUNDLE" sleep 100
	husk_nowait run -d -b "$BUNDLE" "$ID"
	run "$HUSK_BUILDDIR/tests/tools/deny-syscall" fork 11 "$HUSK_BIN" --root "$HUSK_ROOT" ps "$ID"
	echo "$status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ps: fork: Resource temporarily unavailable"* ]]
	# 70 options: more than the 63 a fixed argv kept (the rest were dropped)
	local opts=() i
	for i in $(seq 69); do opts+=(-o pid=); done
	opts+=(-o pid,comm)
	run husk ps "$ID" "${opts[@]}"
	echo "$status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"sleep"* ]]
}

@test "root.path \"/\" (however spelled) fails naming root.path, not at pivot_root" {
	local p
	for p in / /. //; do
		update_config "$BUNDLE" ".root.path = \"$p\""
		fails_with "root.path: \"$p\" is the host's root directory" "of its own"
	done
}

@test "a 1-byte memory limit fails naming linux.resources.memory.limit" {
	update_config "$BUNDLE" '.linux.resources.memory.limit = 1'
	run husk_nowait create -b "$BUNDLE" "$ID"
	echo "$status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.resources.memory.limit: the container init was killed by the OOM killer"*"1 bytes"* ]]
	assert_nothing_left "$ID"
	# a time namespace takes the slow path: a process sets the namespaces
	# up and forks the init
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "time"}]'
	run husk_nowait create -b "$BUNDLE" "$ID"
	echo "$status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.resources.memory.limit: "*"killed by the OOM killer"*"1 bytes"* ]]
	assert_nothing_left "$ID"
}

@test "a lost saved config: start and delete warn that the poststart/poststop hooks did not run" {
	update_config "$BUNDLE" '.hooks.poststart = [{"path": "/bin/true"}] | .hooks.poststop = [{"path": "/bin/true"}]'
	set_args "$BUNDLE" sleep 100
	husk_nowait create -b "$BUNDLE" "$ID"
	rm "$HUSK_ROOT/$ID/config.json"
	run husk_nowait start "$ID"
	echo "$status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"level=warning"*"poststart hooks not run"*"config.json"*"missing"* ]]
	run husk_nowait delete --force "$ID"
	echo "$status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"level=warning"*"poststop hooks not run"*"config.json"* ]]
	assert_nothing_left "$ID"
}

