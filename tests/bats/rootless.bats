#!/usr/bin/env bats
# husk run by an unprivileged user: a user namespace from the config (or
# newuidmap/newgidmap with /etc/subuid ranges), state under
# $XDG_RUNTIME_DIR/husk, no cgroups on a v1 host.

load helpers

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create the test user"
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (uidmap)"
	export HUSK_TEST_USER=husk-rl-$$
	useradd --create-home "$HUSK_TEST_USER"
	# useradd adds subordinate ranges on Debian; make sure there is one
	grep -q "^$HUSK_TEST_USER:" /etc/subuid || usermod --add-subuids 300000-365535 "$HUSK_TEST_USER"
	grep -q "^$HUSK_TEST_USER:" /etc/subgid || usermod --add-subgids 300000-365535 "$HUSK_TEST_USER"
}

teardown_file() {
	[ -n "${HUSK_TEST_USER:-}" ] && userdel --remove "$HUSK_TEST_USER" 2>/dev/null || true
}

setup() {
	require_root
	setup_common
	chmod 755 "$TEST_TMP"
	make_bundle "$BUNDLE"
	rm "$BUNDLE/config.json"
	chown -R "$HUSK_TEST_USER:" "$TEST_TMP"
	XDG=$TEST_TMP/xdg
	UID_T=$(id -u "$HUSK_TEST_USER")
	GID_T=$(id -g "$HUSK_TEST_USER")
}

teardown() {
	as_user "$HUSK_BIN list -q" 2>/dev/null | while read -r id; do
		as_user "$HUSK_BIN delete --force $id" || true
	done
	teardown_common
}

as_user() {
	su "$HUSK_TEST_USER" -s /bin/sh -c "cd '$BUNDLE' && XDG_RUNTIME_DIR='$XDG' $1"
}

@test "rootless: spec --rootless runs as-is, root inside maps to the user" {
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .process.args = [\"sh\", \"-c\", \"id -u; cat /proc/self/uid_map\"]' config.json >c && mv c config.json"
	run as_user "$HUSK_BIN run rl1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +$UID_T\ +1$ ]]
	# state lived under $XDG_RUNTIME_DIR/husk and is gone after run
	[ -d "$XDG/husk" ]
	[ -z "$(ls "$XDG/husk")" ]
}

@test "rootless: ranges from /etc/subuid are mapped with newuidmap/newgidmap" {
	sub=$(grep "^$HUSK_TEST_USER:" /etc/subuid | head -1 | cut -d: -f2)
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .process.args = [\"sh\", \"-c\", \"cat /proc/self/uid_map /proc/self/gid_map\"]
		| .linux.uidMappings += [{\"containerID\": 1, \"hostID\": $sub, \"size\": 1000}]
		| .linux.gidMappings += [{\"containerID\": 1, \"hostID\": $sub, \"size\": 1000}]' config.json >c && mv c config.json"
	run as_user "$HUSK_BIN run rl2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$sub"*"1000"* ]]
	[ "$(echo "$output" | grep -c " $sub ")" -eq 2 ]
}

@test "rootless: a mapping outside the user's ranges fails clearly and leaves nothing" {
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .linux.uidMappings += [{\"containerID\": 1, \"hostID\": 1, \"size\": 10}]' config.json >c && mv c config.json"
	run as_user "$HUSK_BIN create rl3"
	[ "$status" -eq 1 ]
	[[ "$output" == *"newuidmap failed"* ]]
	[ ! -e "$XDG/husk/rl3" ]
}

@test "rootless: create, state, start, kill, delete" {
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .process.args = [\"sleep\", \"100\"]' config.json >c && mv c config.json"
	as_user "$HUSK_BIN create rl4"
	[ "$(as_user "$HUSK_BIN state rl4" | jq -r .status)" = created ]
	as_user "$HUSK_BIN start rl4"
	[ "$(as_user "$HUSK_BIN state rl4" | jq -r .status)" = running ]
	[ "$(as_user "$HUSK_BIN state rl4" | jq -r .owner)" = "$HUSK_TEST_USER" ]
	as_user "$HUSK_BIN kill rl4 KILL"
	sleep 0.3
	[ "$(as_user "$HUSK_BIN state rl4" | jq -r .status)" = stopped ]
	as_user "$HUSK_BIN delete rl4"
	[ ! -e "$XDG/husk/rl4" ]
}

@test "rootless: spec --rootless runs unchanged (terminal, sh) for a normal user" {
	as_user "$HUSK_BIN spec --rootless"
	cp "$BUNDLE/config.json" "$TEST_TMP/spec.json"
	# the default process is an interactive sh on a terminal: husk holds
	# the pty and relays our input to it
	printf 'id -u; echo in-container; exit 7\n' >"$TEST_TMP/input"
	chmod 644 "$TEST_TMP/input"
	run as_user "$HUSK_BIN run rl5 <'$TEST_TMP/input'"
	echo "$output"
	[ "$status" -eq 7 ]
	# root inside, and the shell ran our commands
	tr -d '\r' <<<"$output" | grep -qx 0
	tr -d '\r' <<<"$output" | grep -qx in-container
	# nothing was edited
	cmp "$BUNDLE/config.json" "$TEST_TMP/spec.json"
	[ -z "$(ls "$XDG/husk")" ]
}

@test "rootless: exec into a container the user runs" {
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .process.args = [\"sleep\", \"100\"]' config.json >c && mv c config.json"
	as_user "$HUSK_BIN run -d rl6 </dev/null >/dev/null 2>&1"
	run as_user "$HUSK_BIN exec rl6 sh -c 'id -u; cat /proc/self/uid_map; exit 9'"
	echo "$output"
	[ "$status" -eq 9 ]
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +$UID_T\ +1$ ]]
}

@test "rootless: a seccomp profile applies to the user's container and its exec" {
	as_user "$HUSK_BIN spec --rootless"
	as_user "jq '.process.terminal = false | .process.args = [\"sleep\", \"100\"] | .root.readonly = false
		| .linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
			\"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}' config.json >c && mv c config.json"
	as_user "$HUSK_BIN run -d rl7 </dev/null >/dev/null 2>&1"
	run as_user "$HUSK_BIN exec rl7 sh -c 'grep ^Seccomp: /proc/1/status /proc/self/status; mkdir /tmp/x'"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Permission denied"* ]]
	[ "$(grep -c 'Seccomp:.*2$' <<<"$output")" -eq 2 ]
}
