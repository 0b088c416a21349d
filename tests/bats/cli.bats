#!/usr/bin/env bats
# The CLI skeleton: --version, --help, spec, features, usage errors, logs.

load helpers

setup() {
	setup_common
}

teardown() {
	rm -rf "$TEST_TMP"
}

@test "--version prints version, commit, spec and features" {
	run "$HUSK_BIN" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^husk\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[[ "${lines[1]}" =~ ^commit:\ [0-9a-f]{40}$|^commit:\ unknown$ ]]
	[ "${lines[2]}" = "spec: 1.3.0" ]
	[[ "${lines[3]}" == *"+SECCOMP"* ]]
	[[ "${lines[3]}" == *"+CAP"* ]]
}

@test "--help lists the commands; a verb's --help shows its options" {
	run "$HUSK_BIN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"spec "* ]]
	[[ "$output" == *"features "* ]]
	run "$HUSK_BIN" spec --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--rootless"* ]]
	[[ "$output" == *"--bundle"* ]]
}

@test "an unknown verb is a usage error on stderr with status 1" {
	run --separate-stderr "$HUSK_BIN" frobnicate
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"'frobnicate' is not a husk command"* ]]
}

@test "an unknown global or verb flag is a usage error with status 1" {
	run --separate-stderr "$HUSK_BIN" --frob spec
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--frob"* ]]
	run --separate-stderr "$HUSK_BIN" spec --frob
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"husk spec: option '--frob'"* ]]
	run "$HUSK_BIN" --log-format xml spec
	[ "$status" -eq 1 ]
	[[ "$output" == *'"xml" is not text or json'* ]]
	run "$HUSK_BIN" --rootless maybe spec
	[ "$status" -eq 1 ]
	run "$HUSK_BIN" spec extra-arg
	[ "$status" -eq 1 ]
	[[ "$output" == *"too many arguments"* ]]
}

@test "no verb prints usage and fails" {
	run "$HUSK_BIN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Usage: husk"* ]]
}

@test "spec writes a runc-style config.json" {
	run "$HUSK_BIN" spec --bundle "$TEST_TMP"
	[ "$status" -eq 0 ]
	run jq -r '.ociVersion, .root.path, .process.args[0], .process.terminal, (.linux.namespaces | map(.type) | join(",")), .mounts[0].destination' "$TEST_TMP/config.json"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1.3.0" ]
	[ "${lines[1]}" = "rootfs" ]
	[ "${lines[2]}" = "sh" ]
	[ "${lines[3]}" = "true" ]
	# as runc: a cgroup namespace only on a pure cgroup v2 host
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		[ "${lines[4]}" = "pid,network,ipc,uts,mount,cgroup" ]
	else
		[ "${lines[4]}" = "pid,network,ipc,uts,mount" ]
	fi
	[ "${lines[5]}" = "/proc" ]
	# runc's formatting: tab indentation
	grep -q $'^\t"ociVersion": "1.3.0",$' "$TEST_TMP/config.json"
}

@test "spec output decodes and re-encodes byte for byte" {
	local mode
	for mode in "" --rootless; do
		rm -f "$TEST_TMP/config.json"
		run "$HUSK_BIN" spec ${mode:+"$mode"} --bundle "$TEST_TMP"
		[ "$status" -eq 0 ]
		oci_roundtrip "$TEST_TMP/config.json" >"$TEST_TMP/again.json"
		cmp "$TEST_TMP/config.json" "$TEST_TMP/again.json"
	done
	# the same document written another way encodes to the same bytes
	jq -c . "$TEST_TMP/config.json" >"$TEST_TMP/compact.json"
	run cmp -s "$TEST_TMP/compact.json" "$TEST_TMP/config.json"
	[ "$status" -ne 0 ]
	oci_roundtrip "$TEST_TMP/compact.json" >"$TEST_TMP/again.json"
	cmp "$TEST_TMP/config.json" "$TEST_TMP/again.json"
}

@test "oci-roundtrip reports a decoding error with the JSON path" {
	"$HUSK_BIN" spec --bundle "$TEST_TMP"
	update_config "$TEST_TMP" '.process.user.uid = "root"'
	run --separate-stderr oci_roundtrip "$TEST_TMP/config.json"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$TEST_TMP/config.json: process.user.uid: expected an integer, got \"root\"" ]
}

@test "spec works in the current directory" {
	cd "$TEST_TMP"
	run "$HUSK_BIN" spec
	[ "$status" -eq 0 ]
	[ -f "$TEST_TMP/config.json" ]
}

@test "spec refuses to overwrite an existing config.json" {
	echo '{}' >"$TEST_TMP/config.json"
	run "$HUSK_BIN" spec --bundle "$TEST_TMP"
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json already exists; remove it first"* ]]
	[ "$(cat "$TEST_TMP/config.json")" = "{}" ]
}

@test "spec into a missing directory names it" {
	run "$HUSK_BIN" spec --bundle "$TEST_TMP/nope"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TEST_TMP/nope"*"No such file or directory"* ]]
}

@test "spec --rootless maps the caller and drops what needs privilege" {
	run "$HUSK_BIN" spec --rootless --bundle "$TEST_TMP"
	[ "$status" -eq 0 ]
	local cfg=$TEST_TMP/config.json
	local cgroupns=
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && cgroupns=cgroup,
	[ "$(jq -r '.linux.namespaces | map(.type) | join(",")' "$cfg")" = "pid,ipc,uts,mount,${cgroupns}user" ]
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$cfg")" = "$(id -u)" ]
	[ "$(jq -r '.linux.gidMappings[0].hostID' "$cfg")" = "$(id -g)" ]
	[ "$(jq -r '.linux.resources' "$cfg")" = "null" ]
	[ "$(jq -r '.mounts[] | select(.destination == "/sys") | .options | join(",")' "$cfg")" = "rbind,nosuid,noexec,nodev,ro" ]
	[ "$(jq -r '.mounts[] | select(.destination == "/dev/pts") | .options | map(select(startswith("gid="))) | length' "$cfg")" = "0" ]
}

@test "features is valid JSON with the supported ociVersion range" {
	run "$HUSK_BIN" features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.3.0"'
}

@test "--log-format json writes one JSON object per line" {
	run "$HUSK_BIN" --log "$TEST_TMP/log.json" --log-format json spec --bundle "$TEST_TMP/nope"
	[ "$status" -eq 1 ]
	# the error is also on stderr for people
	[[ "$output" == *"No such file or directory"* ]]
	[ "$(wc -l <"$TEST_TMP/log.json")" -eq 1 ]
	run jq -e -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json"
	[ "$status" -eq 0 ]
	[[ "$output" == "bundle $TEST_TMP/nope: No such file or directory" ]]
	jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' "$TEST_TMP/log.json"
}

@test "text logs use the logrus format" {
	run "$HUSK_BIN" --log "$TEST_TMP/log.txt" spec --bundle "$TEST_TMP/nope"
	[ "$status" -eq 1 ]
	grep -qE '^time="[^"]+" level=error msg="bundle .*/nope: No such file or directory"$' "$TEST_TMP/log.txt"
}

@test "every verb in husk --help has a man page, listed in husk(8) and installed" {
	local srcdir=${HUSK_SRCDIR:-$BATS_TEST_DIRNAME/../..}
	run "$HUSK_BIN" --help
	[ "$status" -eq 0 ]
	local verbs
	verbs=$(printf '%s\n' "$output" | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	# the parse must find the verb table, or this test would pass on nothing
	[[ $'\n'"$verbs"$'\n' == *$'\n'run$'\n'* ]]
	[[ $'\n'"$verbs"$'\n' == *$'\n'create$'\n'* ]]
	local missing=
	for verb in $verbs; do
		[ -f "$srcdir/man/husk-$verb.8.md" ] || missing+=" man/husk-$verb.8.md"
		grep -qx "\*\*$verb\*\*" "$srcdir/man/husk.8.md" || missing+=" husk.8.md:COMMANDS:$verb"
		grep -q "man/husk-$verb\.8\b" "$srcdir/man/local.mk" || missing+=" local.mk:husk-$verb.8"
	done
	if [ -n "$missing" ]; then
		echo "missing:$missing"
		return 1
	fi
}

@test "update usage errors fail cleanly naming the problem (no double free)" {
	run --separate-stderr husk update
	echo "$status: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"missing argument: expected a container id"* ]]
	[[ "$stderr" != *"double free"* ]]
	run --separate-stderr husk update -r - some-id <<<'{bad'
	echo "$status: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"resources"* ]]
	[[ "$stderr" != *"double free"* ]]
	run --separate-stderr husk update -r "$TEST_TMP/missing.json" some-id
	echo "$status: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"missing.json"* ]]
	run --separate-stderr husk update --memory 1m no-such-ctr
	echo "$status: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no-such-ctr"*"does not exist"* ]]
}
