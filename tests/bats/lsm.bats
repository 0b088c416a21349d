#!/usr/bin/env bats
# LSM labels on a host without SELinux or AppArmor: every field that asks
# for a label is refused before anything exists, naming the field; husk
# features reports an LSM as enabled only where it can apply its labels.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	if [ -e /sys/fs/selinux/enforce ] || [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		HOST_HAS_LSM=1
	fi
}

teardown() {
	teardown_common
}

# refused_at_create JQ-FILTER FIELD: create fails naming FIELD, and leaves
# no state dir, no cgroup, no process
refused_at_create() {
	local id
	id=$(ctr_id lsm)
	update_config "$BUNDLE" "$1 | .process.args = [\"sleep\", \"lsm-marker-$id\"]"
	run husk create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$2: "* ]]
	if [ -z "${HOST_HAS_LSM:-}" ]; then
		[[ "$output" == *"which this host does not run"* ]]
	fi
	assert_nothing_left "$id" "lsm-marker-$id"
	[ -z "$(husk list -q)" ]
}

@test "process.selinuxLabel is refused at create, naming the field, and nothing is left" {
	refused_at_create '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"' process.selinuxLabel
	[[ "$output" == *'\"system_u:system_r:container_t:s0:c1,c2\" asks for SELinux'* ]]
}

@test "linux.mountLabel is refused at create, naming the field, and nothing is left" {
	refused_at_create '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"' linux.mountLabel
	[[ "$output" == *SELinux* ]]
}

@test "process.apparmorProfile is refused at create, naming the field, and nothing is left" {
	refused_at_create '.process.apparmorProfile = "husk-test-profile"' process.apparmorProfile
	[[ "$output" == *'\"husk-test-profile\" asks for AppArmor'* ]]
}

@test "run refuses a label the same way" {
	update_config "$BUNDLE" '.process.apparmorProfile = "husk-test-profile"'
	run husk run -b "$BUNDLE" "$(ctr_id lsmrun)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.apparmorProfile: "* ]]
	assert_nothing_left "$(ctr_id lsmrun)"
}

@test "empty label fields ask for nothing and are accepted" {
	update_config "$BUNDLE" '.process.selinuxLabel = "" | .process.apparmorProfile = "" | .linux.mountLabel = ""'
	run husk run -b "$BUNDLE" "$(ctr_id lsmempty)"
	[ "$status" -eq 0 ]
}

@test "exec --process-label, --apparmor and a process.json label are refused; the container is untouched" {
	local id
	id=$(ctr_id lsmexec)
	update_config "$BUNDLE" '.process.args = ["sleep", "100"]'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec --process-label system_u:system_r:container_t:s0 "$id" true
	[ "$status" -eq 1 ]
	[[ "$output" == *"--process-label: process.selinuxLabel: "* ]]
	run husk exec --apparmor husk-test-profile "$id" true
	[ "$status" -eq 1 ]
	[[ "$output" == *"--apparmor: process.apparmorProfile: "* ]]
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"args": ["true"], "cwd": "/", "apparmorProfile": "from-file"}
	JSON
	run husk exec --process "$TEST_TMP/process.json" "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *'process.apparmorProfile: \"from-file\"'* ]]
	[ "$(container_status "$id")" = running ]
	# only the init: no exec'd process was started
	[ "$(husk ps --format json "$id" | jq length)" -eq 1 ]
}

@test "husk features reports SELinux and AppArmor as unsupported on a host without them" {
	[ -z "${HOST_HAS_LSM:-}" ] || skip "the host runs an LSM"
	run husk features
	[ "$status" -eq 0 ]
	[ "$(jq -r .linux.selinux.enabled <<<"$output")" = false ]
	[ "$(jq -r .linux.apparmor.enabled <<<"$output")" = false ]
}
